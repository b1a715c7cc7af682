package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
)

// Ctrl-C (the ctx stage.Main cancels) in the middle of a stage with child
// processes stops the walk: no later stage runs, every process the stage
// started is gone, and what ran is still reported.
func TestInterruptLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	start := time.Now()
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"-quick", "-stage", "3", "-out", dir}, &out, &errOut) }()
	// Cancel once the stage's web servers run (its log names them).
	log := filepath.Join(dir, "03-lb-replicas.log")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), "== 03-lb-replicas") && len(proc.Children()) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatalf("stage 03 did not start its children within a minute; log:\n%s", b)
		}
	}
	cancel()
	code := <-done
	if code == 0 {
		t.Fatalf("an interrupted walk exited 0:\n%s", out.String())
	}
	if d := time.Since(start); d > 60*time.Second {
		t.Errorf("stopping took %v", d)
	}
	if kids := proc.Children(); len(kids) > 0 {
		t.Fatalf("processes left behind: %v", kids)
	}
	if s := out.String(); !strings.Contains(s, "interrupted") || !strings.Contains(s, "report:") {
		t.Errorf("output lacks the interruption or the report:\n%s", s)
	}
}

// Ctrl-C to the ladder command itself (stage.Main): exit 130, and no
// process it started, directly or through a stage, outlives it.
func TestCtrlCExits130AndLeavesNoProcess(t *testing.T) {
	dir := t.TempDir()
	token := fmt.Sprintf("ladder-ctrl-c-%d-%d", os.Getpid(), time.Now().UnixNano())
	cmd := exec.Command(os.Args[0], "-quick", "-stage", "3", "-out", dir)
	cmd.Env = append(os.Environ(), envTestMain+"=1", "LADDER_TEST_TOKEN="+token) // every descendant inherits the token
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "03-lb-replicas.log")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, _ := os.ReadFile(log)
		if strings.Contains(string(b), "== 03-lb-replicas") {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("stage 03 did not start within a minute; output:\n%s\nlog:\n%s", out.String(), b)
		}
	}
	if n := len(withToken(token)); n < 3 { // the ladder, 03's web servers
		t.Fatalf("%d processes carry the token before Ctrl-C, want ≥ 3", n)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	werr := make(chan error, 1)
	go func() { werr <- cmd.Wait() }()
	select {
	case <-werr:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-werr
		t.Fatalf("still running a minute after Ctrl-C:\n%s", out.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130:\n%s", code, out.String())
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		left := withToken(token)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes left behind after Ctrl-C: %v", left)
		}
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("no word of the interruption:\n%s", out.String())
	}
}

// withToken lists the live processes whose environment holds token.
func withToken(token string) []int {
	envs, _ := filepath.Glob("/proc/[0-9]*/environ")
	var pids []int
	for _, p := range envs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte("LADDER_TEST_TOKEN="+token+"\x00")) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if s := string(stat); err != nil || strings.Contains(s[strings.LastIndexByte(s, ')')+1:], " Z ") {
			continue // gone, or a zombie
		}
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		pids = append(pids, pid)
	}
	return pids
}
