package queue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// The wall clock steps back (an NTP correction, a VM restored): a periodic
// job keeps firing at the boundaries of the clock as it now reads, instead
// of waiting for the boundary it had computed before the step (an hour of
// silence for a step of an hour).
func TestPeriodicAfterClockStepsBack(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	m, _ := NewMemory(MemoryOptions{Now: now})
	h := &Handlers{}
	var runs atomic.Int64
	mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
		runs.Add(1)
		return nil
	}, HandlerOptions{})
	r := start(t, m, h, WorkerOptions{Logger: quiet, Now: now,
		Periodic: []Periodic{{Name: "p", Schedule: Every(200 * time.Millisecond), Args: argsA{}}}})
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if runs.Load() == 0 {
		t.Fatal("no periodic run before the step")
	}
	offset.Store(int64(-time.Hour))
	before := runs.Load()
	for runs.Load() < before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r.stop(t)
	if n := runs.Load() - before; n < 2 {
		t.Fatalf("after the clock stepped back an hour, Every(200ms) ran %d times in the following seconds; want it to go on", n)
	}
}
