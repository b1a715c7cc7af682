package stage

import (
	"context"
	"io"
	"syscall"
	"testing"
	"time"
)

// A run stopped by Ctrl-C exits 130 (SIGTERM 143), whatever code the run
// returns as it unwinds; an uninterrupted run keeps its own code.
func TestMainExitsWithTheSignalsCode(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		want int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		run := func(ctx context.Context, _ []string, _, _ io.Writer) int {
			if err := syscall.Kill(syscall.Getpid(), tc.sig); err != nil {
				t.Error(err)
				return 3
			}
			select {
			case <-ctx.Done():
				return 1 // what a run returns when its work was cut short
			case <-time.After(10 * time.Second):
				t.Errorf("%v did not cancel the run's context", tc.sig)
				return 3
			}
		}
		if got := main(run, nil, io.Discard, io.Discard); got != tc.want {
			t.Errorf("%v: exit code %d, want %d", tc.sig, got, tc.want)
		}
	}
	if got := main(func(context.Context, []string, io.Writer, io.Writer) int { return 2 }, nil, io.Discard, io.Discard); got != 2 {
		t.Errorf("uninterrupted run: exit code %d, want its own 2", got)
	}
}
