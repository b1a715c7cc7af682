package singlebox

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
)

func TestQuickRunServesThenFailsWhenKilled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-quick", "-workers", "1,4", "-step", "400ms"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	for _, want := range []string{"drill kill the box under load:     HOLDS", "after it", "100.00 %", "step workers"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "FAILS") {
		t.Errorf("a drill failed:\n%s", s)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"-workers", "0"}, {"-step", "-1s"}, {"-cpus", "1000"}, {"-kdf-iter", "5"}, {"-kdf-iter", "2000000000"}, {"-json", "/nonexistent-dir/report.json"}, {"-nope"}, {"extra"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, &out, &errOut); code != 2 {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", args, code, errOut.String())
		}
		if errOut.Len() == 0 {
			t.Errorf("%q: no message", args)
		}
	}
}

// Ctrl-C (the ctx of signal.NotifyContext) stops the run and every process
// it started.
func TestInterruptLeavesNothingBehind(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-quick", "-step", "5s"}, &out, &errOut)
	if code == 0 {
		t.Fatalf("an interrupted run exited 0:\n%s", out.String())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if kids := proc.Children(); len(kids) > 0 {
		t.Fatalf("processes left behind: %v", kids)
	}
}
