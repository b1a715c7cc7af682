package queue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// A periodic job with a period under a second runs at each of its
// boundaries: its unique key was the boundary in whole Unix seconds, so
// every boundary after the first in a second was taken for a duplicate
// (Every(100ms) ran once a second, not ten times).
func TestSubsecondPeriodicRunsEveryBoundary(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	h := &Handlers{}
	var runs atomic.Int64
	mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
		runs.Add(1)
		return nil
	}, HandlerOptions{})
	r := start(t, m, h, WorkerOptions{Logger: quiet, Periodic: []Periodic{{Name: "p", Schedule: Every(100 * time.Millisecond), Args: argsA{}}}})
	time.Sleep(1500 * time.Millisecond)
	r.stop(t)
	// 15 boundaries passed; allow for a slow machine, not for one a second.
	if n := runs.Load(); n < 6 {
		t.Fatalf("Every(100ms) over 1.5 s ran %d times; want about 15", n)
	}
}
