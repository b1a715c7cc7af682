package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// waitAsync starts Wait and returns a channel that gets its result.
func waitAsync(ctx context.Context, b queue.Backend, q string, max time.Duration) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- b.Wait(ctx, q, max) }()
	return ch
}

// waitResult waits for a Wait started by waitAsync, up to bound (far more
// than the Wait may take: the test fails rather than hangs).
func waitResult(t *testing.T, ch <-chan error, bound time.Duration) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(bound):
		t.Fatalf("Wait did not return within %v", bound)
		return nil
	}
}

// Wait returns after an enqueue (at once for a backend with push, within
// max for one that polls), with nil.
func testWaitEnqueue(t *testing.T, e *env) {
	max := 4 * e.opts.Lease
	ch := waitAsync(t.Context(), e.b, e.queue, max)
	time.Sleep(e.opts.Lease / 5) // let it block (if it returns early, that is allowed)
	enqueueIDs(t, e.a, job(e.queue))
	if err := waitResult(t, ch, max+30*time.Second); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if len(e.fetch(t, e.b, 1, time.Minute)) != 1 {
		t.Fatal("Wait returned but Fetch found no job")
	}
}

// Wait returns once a delayed job is due (within max).
func testWaitDue(t *testing.T, e *env) {
	j := job(e.queue)
	j.RunAt = time.Now().Add(e.opts.Lease)
	enqueueIDs(t, e.a, j)
	deadline := time.Now().Add(20 * e.opts.Lease)
	for {
		if err := e.b.Wait(t.Context(), e.queue, 2*e.opts.Lease); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if len(e.fetch(t, e.b, 1, time.Minute)) == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delayed job was not fetched within %v", 20*e.opts.Lease)
		}
	}
}

// With nothing happening, Wait returns nil once max has elapsed.
func testWaitMax(t *testing.T, e *env) {
	ch := waitAsync(t.Context(), e.a, e.queue, e.opts.Lease)
	if err := waitResult(t, ch, e.opts.Lease+30*time.Second); err != nil {
		t.Fatalf("Wait: %v, want nil after max", err)
	}
}

// A Wait whose ctx ends returns ctx.Err().
func testWaitCanceled(t *testing.T, e *env) {
	ctx, cancel := context.WithCancel(t.Context())
	ch := waitAsync(ctx, e.a, e.queue, time.Hour)
	time.Sleep(e.opts.Lease / 5)
	cancel()
	if err := waitResult(t, ch, 30*time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait after cancel: %v, want context.Canceled", err)
	}
	if err := e.a.Wait(canceledCtx(), e.queue, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled ctx: %v, want context.Canceled", err)
	}
}

// Every method called with a cancelled ctx returns ctx.Err() (possibly
// wrapped) and changes nothing.
func testCanceledContext(t *testing.T, e *env) {
	enqueueIDs(t, e.a, job(e.queue))
	running := e.fetchOne(t, e.a)
	enqueueIDs(t, e.a, job(e.queue))
	ctx := canceledCtx()
	calls := map[string]func() error{
		"Enqueue": func() error { _, err := e.b.Enqueue(ctx, jobs(e.queue, 2)); return err },
		"Fetch": func() error {
			_, err := e.b.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: 1, Lease: time.Minute})
			return err
		},
		"Extend": func() error { _, err := e.b.Extend(ctx, []*queue.Job{running}, time.Minute); return err },
		"Settle": func() error {
			_, err := e.b.Settle(ctx, []queue.Outcome{{Job: running, Kind: queue.Done}})
			return err
		},
		"Cancel":    func() error { return e.b.Cancel(ctx, e.queue, running.ID) },
		"Pause":     func() error { return e.b.Pause(ctx, e.queue, true) },
		"Stats":     func() error { _, err := e.b.Stats(ctx, e.queue); return err },
		"Dead":      func() error { _, err := e.b.Dead(ctx, e.queue, queue.Page{}); return err },
		"RetryDead": func() error { _, err := e.b.RetryDead(ctx, e.queue, nil); return err },
		"PurgeDead": func() error { _, err := e.b.PurgeDead(ctx, e.queue, nil); return err },
		"Wait":      func() error { return e.b.Wait(ctx, e.queue, time.Minute) },
	}
	for name, call := range calls {
		var err error
		noPanic(t, name, func() { err = call() })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled ctx: %v, want context.Canceled", name, err)
		}
	}
	s := stats(t, e.a, e.queue)
	if s.Ready != 1 || s.Running != 1 || s.Dead != 0 || s.Paused {
		t.Fatalf("after calls with a cancelled ctx Stats = %+v; want 1 ready, 1 running, nothing else", s)
	}
	settleOK(t, e.a, queue.Outcome{Job: running, Kind: queue.Done})
}

// Bad input is an error wrapping ErrInvalidOptions, never a panic, and
// changes nothing.
func testBadInput(t *testing.T, e *env) {
	ctx := t.Context()
	withID := job(e.queue)
	withID.ID = "caller-made"
	bad := map[string]func() error{
		"Enqueue nil job": func() error { _, err := e.a.Enqueue(ctx, []*queue.Job{job(e.queue), nil}); return err },
		"Enqueue job with ID": func() error {
			_, err := e.a.Enqueue(ctx, []*queue.Job{job(e.queue), withID})
			return err
		},
		"Fetch empty queue": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Max: 1, Lease: time.Minute})
			return err
		},
		"Fetch Max 0": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Lease: time.Minute})
			return err
		},
		"Fetch Max -1": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: -1, Lease: time.Minute})
			return err
		},
		"Fetch Lease 0": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: 1})
			return err
		},
		"Fetch Lease -1s": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: 1, Lease: -time.Second})
			return err
		},
		"Fetch Limit -1": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: 1, Lease: time.Minute, Limit: -1})
			return err
		},
		"Fetch Rate.N -1": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: 1, Lease: time.Minute, Rate: queue.Rate{N: -1, Per: time.Second}})
			return err
		},
		"Fetch Rate.Per 0": func() error {
			_, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: 1, Lease: time.Minute, Rate: queue.Rate{N: 1}})
			return err
		},
		"Cancel empty queue":    func() error { return e.a.Cancel(ctx, "", "1") },
		"Pause empty queue":     func() error { return e.a.Pause(ctx, "", true) },
		"Stats empty queue":     func() error { _, err := e.a.Stats(ctx, ""); return err },
		"Dead empty queue":      func() error { _, err := e.a.Dead(ctx, "", queue.Page{}); return err },
		"Dead Limit -1":         func() error { _, err := e.a.Dead(ctx, e.queue, queue.Page{Limit: -1}); return err },
		"RetryDead empty queue": func() error { _, err := e.a.RetryDead(ctx, "", nil); return err },
		"PurgeDead empty queue": func() error { _, err := e.a.PurgeDead(ctx, "", nil); return err },
		"Wait empty queue":      func() error { return e.a.Wait(ctx, "", time.Millisecond) },
	}
	for name, call := range bad {
		var err error
		noPanic(t, name, func() { err = call() })
		if !errors.Is(err, queue.ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
	// A nil Job in an outcome is that outcome's error; a nil or empty batch is fine.
	noPanic(t, "Settle nil job", func() {
		errs, err := e.a.Settle(ctx, []queue.Outcome{{Kind: queue.Done}})
		if err == nil && (len(errs) != 1 || errs[0] == nil) {
			t.Errorf("Settle of an outcome without a Job = %v, %v; want an error", errs, err)
		}
	})
	noPanic(t, "Extend nil job", func() {
		ok, err := e.a.Extend(ctx, []*queue.Job{nil}, time.Minute)
		if err == nil && (len(ok) != 1 || ok[0]) {
			t.Errorf("Extend of a nil job = %v, %v; want an error or [false]", ok, err)
		}
	})
	for name, call := range map[string]func() (int, error){
		"Enqueue nil": func() (int, error) { r, err := e.a.Enqueue(ctx, nil); return len(r), err },
		"Settle nil":  func() (int, error) { r, err := e.a.Settle(ctx, nil); return len(r), err },
		"Extend nil":  func() (int, error) { r, err := e.a.Extend(ctx, nil, time.Minute); return len(r), err },
	} {
		noPanic(t, name, func() {
			if n, err := call(); n != 0 || err != nil {
				t.Errorf("%s = %d results, %v; want none, nil", name, n, err)
			}
		})
	}
	// A cursor the backend never made is an error, not a panic.
	for _, c := range []string{"\x00", "not a cursor", "-1", fmt.Sprint(^uint64(0)) + "0"} {
		noPanic(t, "Dead with a hand-made cursor", func() {
			if _, err := e.a.Dead(ctx, e.queue, queue.Page{After: c}); err != nil && !errors.Is(err, queue.ErrInvalidOptions) {
				t.Errorf("Dead with cursor %q: %v, want nil or ErrInvalidOptions", c, err)
			}
		})
	}
}

// Many fetchers on two instances, racing, never get the same job: each of
// 1,000 jobs is delivered exactly once.
func testConcurrentFetchers(t *testing.T, e *env) {
	const n, workers = 1000, 8
	for i := 0; i < n; i += 100 {
		enqueueIDs(t, e.a, jobs(e.queue, 100)...)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		b := e.a
		if w%2 == 1 {
			b = e.b
		}
		wg.Go(func() {
			for empty := 0; empty < 3; {
				js, err := b.Fetch(t.Context(), queue.FetchRequest{Queue: e.queue, Max: 7, Lease: time.Minute})
				if err != nil {
					t.Errorf("Fetch: %v", err)
					return
				}
				if len(js) == 0 {
					empty++
					time.Sleep(time.Millisecond)
					continue
				}
				empty = 0
				mu.Lock()
				for _, j := range js {
					seen[j.ID]++
				}
				mu.Unlock()
				os := make([]queue.Outcome, len(js))
				for i, j := range js {
					os[i] = queue.Outcome{Job: j, Kind: queue.Done}
				}
				errs, err := b.Settle(t.Context(), os)
				if err != nil {
					t.Errorf("Settle: %v", err)
					return
				}
				for _, err := range errs {
					if err != nil {
						t.Errorf("Settle: %v", err)
					}
				}
			}
		})
	}
	wg.Wait()
	dup := 0
	for _, c := range seen {
		if c > 1 {
			dup++
		}
	}
	if len(seen) != n || dup != 0 {
		t.Fatalf("%d fetchers delivered %d distinct jobs of %d, %d more than once", workers, len(seen), n, dup)
	}
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
}

// Producers and consumers on both instances at once: every job enqueued is
// delivered exactly once.
func testConcurrentEnqueueFetch(t *testing.T, e *env) {
	const producers, perProducer = 4, 250
	var wg sync.WaitGroup
	var mu sync.Mutex
	enqueued := map[string]bool{}
	for p := range producers {
		b := []queue.Backend{e.a, e.b}[p%2]
		wg.Go(func() {
			for range perProducer / 25 {
				res, err := b.Enqueue(t.Context(), jobs(e.queue, 25))
				if err != nil {
					t.Errorf("Enqueue: %v", err)
					return
				}
				mu.Lock()
				for _, r := range res {
					enqueued[r.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	seen := map[string]int{}
	total := 0
	deadline := time.Now().Add(60 * time.Second)
	for total < producers*perProducer && time.Now().Before(deadline) {
		for _, b := range []queue.Backend{e.a, e.b} {
			js := fetchReq(t, b, queue.FetchRequest{Queue: e.queue, Max: 50, Lease: time.Minute})
			os := make([]queue.Outcome, len(js))
			for i, j := range js {
				seen[j.ID]++
				os[i] = queue.Outcome{Job: j, Kind: queue.Done}
			}
			total += len(js)
			if len(os) > 0 {
				settleOK(t, b, os...)
			}
		}
	}
	wg.Wait()
	if total != producers*perProducer || len(seen) != total {
		t.Fatalf("delivered %d jobs (%d distinct), enqueued %d", total, len(seen), producers*perProducer)
	}
	for id := range seen {
		if !enqueued[id] {
			t.Fatalf("delivered job %s that no Enqueue returned", id)
		}
	}
}
