package pgqueue_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

// twoBackends returns two Backends on one fresh database through separate
// pools: two instances of a service.
func twoBackends(t *testing.T) (*pgqueue.Backend, *pgqueue.Backend) {
	pg := testenv.Postgres(t)
	a := backendOn(t, openPool(t, pg.DSN, 0), pgqueue.Options{})
	b := backendOn(t, openPool(t, pg.DSN, 0), pgqueue.Options{})
	return a, b
}

func TestLimitHoldsAcrossInstancesUnderConcurrentFetches(t *testing.T) {
	t.Parallel()
	a, b := twoBackends(t)
	jobs := make([]*queue.Job, 60)
	for i := range jobs {
		jobs[i] = job("q")
	}
	enqueue(t, a, jobs...)
	const limit = 5
	var leased atomic.Int64
	var mu sync.Mutex
	var held []*queue.Job
	var wg sync.WaitGroup
	for g := range 8 {
		be := a
		if g%2 == 1 {
			be = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				got, err := be.Fetch(ctxT(t), queue.FetchRequest{Queue: "q", Max: 3, Lease: time.Minute, Limit: limit})
				if err != nil {
					t.Error(err)
					return
				}
				leased.Add(int64(len(got)))
				mu.Lock()
				held = append(held, got...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n := leased.Load(); n != limit {
		t.Fatalf("%d jobs leased at once with Limit %d", n, limit)
	}
	// Finishing two frees two slots, no more.
	settle(t, b, queue.Outcome{Job: held[0], Kind: queue.Done}, queue.Outcome{Job: held[1], Kind: queue.Dead, Err: "x"})
	got, err := a.Fetch(ctxT(t), queue.FetchRequest{Queue: "q", Max: 10, Lease: time.Minute, Limit: limit})
	if err != nil || len(got) != 2 {
		t.Fatalf("after two settled: %d jobs, %v", len(got), err)
	}
}

func TestRateIsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	a, b := twoBackends(t)
	jobs := make([]*queue.Job, 100)
	for i := range jobs {
		jobs[i] = job("q")
	}
	enqueue(t, a, jobs...)
	rate := queue.Rate{N: 10, Per: time.Second, Burst: 4}
	var started atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for g := range 4 {
		be := a
		if g%2 == 1 {
			be = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(begin) < 600*time.Millisecond {
				got, err := be.Fetch(ctxT(t), queue.FetchRequest{Queue: "q", Max: 5, Lease: time.Minute, Rate: rate})
				if err != nil {
					t.Error(err)
					return
				}
				started.Add(int64(len(got)))
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	n := started.Load()
	allowed := int64(rate.Burst) + int64(elapsed.Seconds()*float64(rate.N)) + 1
	if n < int64(rate.Burst) || n > allowed {
		t.Fatalf("%d jobs started in %v with a rate of %d/s, burst %d (allowed ≤ %d)", n, elapsed, rate.N, rate.Burst, allowed)
	}
	t.Logf("%d started in %v", n, elapsed)
}

func TestPausedQueueHandsOutNothing(t *testing.T) {
	t.Parallel()
	a, b := twoBackends(t)
	enqueue(t, a, job("q"), job("q"))
	if err := a.Pause(ctxT(t), "q", true); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, b, "q", 5, time.Minute); len(got) != 0 {
		t.Fatalf("paused queue handed out %d jobs", len(got))
	}
	if got, _ := b.Fetch(ctxT(t), queue.FetchRequest{Queue: "q", Max: 5, Lease: time.Minute, Limit: 5}); len(got) != 0 {
		t.Fatalf("paused queue handed out %d jobs (limited fetch)", len(got))
	}
	st, _ := b.Stats(ctxT(t), "q")
	if !st.Paused || st.Ready != 2 {
		t.Fatalf("stats: %+v", st)
	}
	if err := b.Pause(ctxT(t), "q", false); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, a, "q", 5, time.Minute); len(got) != 2 {
		t.Fatalf("resumed queue handed out %d jobs", len(got))
	}
}
