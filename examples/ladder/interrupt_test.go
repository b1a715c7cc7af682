package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
