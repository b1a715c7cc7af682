package queue

import (
	"context"
	"math"
	"testing"
	"time"
)

// A Delay, RunAt or UniqueFor far in the future (up to the largest
// time.Duration) must keep its meaning: the job waits, the key is held.
// time.Time.UnixNano is undefined after the year 2262; a job due in 2318
// must not look due in 1677.
func TestHugeDelayWaits(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	c := mustClient(t, m)
	ctx := context.Background()
	for _, o := range []EnqueueOptions{
		{Delay: math.MaxInt64},
		{RunAt: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := c.Enqueue(ctx, argsA{}, o); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := m.Fetch(ctx, FetchRequest{Queue: DefaultQueue, Max: 10, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 0 {
		t.Fatalf("Fetch returned %d jobs due in the far future; want none (RunAt %v)", len(jobs), jobs[0].RunAt)
	}
	st, err := m.Stats(ctx, DefaultQueue)
	if err != nil {
		t.Fatal(err)
	}
	if st.Scheduled != 2 || st.Ready != 0 {
		t.Fatalf("Stats = %+v; want 2 scheduled, 0 ready", st)
	}
}

func TestHugeUniqueForHoldsKey(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	c := mustClient(t, m)
	ctx := context.Background()
	o := EnqueueOptions{UniqueKey: "k", UniqueFor: math.MaxInt64}
	r1, err := c.Enqueue(ctx, argsA{}, o)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Enqueue(ctx, argsA{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if !r2.Duplicate || r2.ID != r1.ID {
		t.Fatalf("second enqueue with the key held for MaxInt64 = %+v; want a duplicate of %s", r2, r1.ID)
	}
}

// A job Timeout of the largest Duration means "effectively never": the
// handler must not be cancelled at once as timed out.
func TestHugeTimeoutDoesNotCancelAtOnce(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	c := mustClient(t, m)
	h := &Handlers{}
	got := make(chan error, 1)
	mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
		select {
		case <-ctx.Done():
			got <- context.Cause(ctx)
		case <-time.After(300 * time.Millisecond):
			got <- nil
		}
		return nil
	}, HandlerOptions{})
	start(t, m, h, WorkerOptions{Logger: quiet})
	enqueue(t, c, argsA{}, EnqueueOptions{Timeout: math.MaxInt64})
	if err := <-got; err != nil {
		t.Fatalf("handler of a job with Timeout MaxInt64 was cancelled at once: %v", err)
	}
}

// A Worker Lease of the largest Duration: jobs run to completion and are
// settled, not cancelled at once as if their lease had run out.
func TestHugeLeaseSettles(t *testing.T) {
	m, _ := NewMemory(MemoryOptions{})
	c := mustClient(t, m)
	h := &Handlers{}
	got := make(chan error, 1)
	mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
		select {
		case <-ctx.Done():
			got <- context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
			got <- nil
		}
		return nil
	}, HandlerOptions{})
	r := start(t, m, h, WorkerOptions{Logger: quiet, Lease: math.MaxInt64})
	enqueue(t, c, argsA{}, EnqueueOptions{})
	if err := <-got; err != nil {
		t.Fatalf("handler under Lease MaxInt64 was cancelled: %v", err)
	}
	r.stop(t)
	st, err := m.Stats(context.Background(), DefaultQueue)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready+st.Running+st.Scheduled+st.Dead != 0 {
		t.Fatalf("after a successful run under Lease MaxInt64, Stats = %+v; want the job settled", st)
	}
}
