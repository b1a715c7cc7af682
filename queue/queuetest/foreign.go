package queuetest

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// foreignIDs are IDs and lease tokens no backend hands out: a caller
// passing a user's input straight through (an admin page's form) must get
// "not found", "skipped" or "lease lost", never a crash or a store error.
var foreignIDs = []string{"", "x", "-1", "0", "1e3", "18446744073709551616", "99999999999999999999999",
	" 1", "1\n", "{a}", "a:b", "'; DROP TABLE jobs; --", strings.Repeat("9", 300), "\x00", "\xff"}

func testForeignIDs(t *testing.T, e *env) {
	ctx := t.Context()
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	for _, fid := range foreignIDs {
		var err error
		noPanic(t, "Cancel", func() { err = e.a.Cancel(ctx, e.queue, fid) })
		if !errors.Is(err, queue.ErrNotFound) && !errors.Is(err, queue.ErrInvalidOptions) {
			t.Errorf("Cancel(%q) = %v; want ErrNotFound", fid, err)
		}
		var n int
		noPanic(t, "RetryDead", func() { n, err = e.a.RetryDead(ctx, e.queue, []string{fid}) })
		if err != nil || n != 0 {
			t.Errorf("RetryDead([%q]) = %d, %v; want 0, nil (skipped)", fid, n, err)
		}
		noPanic(t, "PurgeDead", func() { n, err = e.a.PurgeDead(ctx, e.queue, []string{fid}) })
		if err != nil || n != 0 {
			t.Errorf("PurgeDead([%q]) = %d, %v; want 0, nil (skipped)", fid, n, err)
		}
		for _, lease := range []string{fid, "1"} {
			fj := &queue.Job{ID: fid, Queue: e.queue, Kind: "k", Lease: lease}
			var ok []bool
			noPanic(t, "Extend", func() { ok, err = e.a.Extend(ctx, []*queue.Job{fj}, time.Minute) })
			if err != nil || len(ok) != 1 || ok[0] {
				t.Errorf("Extend(ID %q, Lease %q) = %v, %v; want [false], nil", fid, lease, ok, err)
			}
			var errs []error
			noPanic(t, "Settle", func() { errs, err = e.a.Settle(ctx, []queue.Outcome{{Job: fj, Kind: queue.Done}}) })
			if err != nil || len(errs) != 1 || !errors.Is(errs[0], queue.ErrLeaseLost) && !errors.Is(errs[0], queue.ErrInvalidOptions) {
				t.Errorf("Settle(ID %q, Lease %q) = %v, %v; want [ErrLeaseLost], nil", fid, lease, errs, err)
			}
		}
		noPanic(t, "Dead", func() { _, err = e.a.Dead(ctx, e.queue, queue.Page{After: fid}) })
		if err != nil && !errors.Is(err, queue.ErrInvalidOptions) {
			t.Errorf("Dead(After %q) = %v; want a page or ErrInvalidOptions", fid, err)
		}
	}
	// A real job with a forged lease is not touched.
	fj := &queue.Job{ID: id, Queue: e.queue, Kind: "k", Lease: "x"}
	if ok, err := e.a.Extend(ctx, []*queue.Job{fj}, time.Minute); err != nil || ok[0] {
		t.Errorf("Extend of a waiting job with a forged lease = %v, %v; want [false]", ok, err)
	}
	if _, err := e.a.Dead(ctx, e.queue, queue.Page{Limit: math.MaxInt}); err != nil {
		t.Errorf("Dead(Limit MaxInt) = %v", err)
	}
	js, err := e.a.Fetch(ctx, queue.FetchRequest{Queue: e.queue, Max: math.MaxInt, Lease: time.Minute})
	if err != nil || len(js) != 1 || js[0].ID != id {
		t.Fatalf("Fetch(Max MaxInt) = %d jobs, %v; want the one job", len(js), err)
	}
	settleOK(t, e.a, queue.Outcome{Job: js[0], Kind: queue.Done})
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
}

// testQueueNames works queues whose names carry the characters a key or a
// statement could trip on, each apart from the others.
func testQueueNames(t *testing.T, e *env) {
	ctx := t.Context()
	suffixes := []string{"}", "{x}", ":w", "}:w", "\n", " ", "'", "%", "*", "\\", "é", "\x00", "\xff"}
	names := []string{e.queue}
	for _, s := range suffixes {
		names = append(names, e.queue+s)
	}
	long := e.queue + strings.Repeat("z", max(0, queue.MaxQueueLen-len(e.queue)))
	names = append(names, long)
	ids := map[string]string{}
	for _, q := range names {
		res, err := e.a.Enqueue(ctx, []*queue.Job{job(q)})
		if err != nil {
			if errors.Is(err, queue.ErrInvalidOptions) {
				continue // a backend may refuse a name it cannot store, clearly
			}
			t.Fatalf("Enqueue on queue %q: %v", q, err)
		}
		ids[q] = res[0].ID
	}
	for _, q := range names {
		id, ok := ids[q]
		if !ok {
			continue
		}
		if st := stats(t, e.b, q); st.Ready != 1 {
			t.Errorf("Stats(%q) = %+v; want 1 ready", q, st)
		}
		js, err := e.b.Fetch(ctx, queue.FetchRequest{Queue: q, Max: 10, Lease: time.Minute})
		if err != nil {
			t.Fatalf("Fetch(%q): %v", q, err)
		}
		if len(js) != 1 || js[0].ID != id || js[0].Queue != q {
			t.Fatalf("Fetch(%q) = %d jobs (want its one job %s)", q, len(js), id)
		}
		settleOK(t, e.b, queue.Outcome{Job: js[0], Kind: queue.Dead, Err: "x"})
		if d := dead(t, e.a, q, queue.Page{}); len(d) != 1 || d[0].Job.ID != id {
			t.Errorf("Dead(%q) = %d letters; want its one", q, len(d))
		}
		if n, err := e.a.RetryDead(ctx, q, nil); err != nil || n != 1 {
			t.Errorf("RetryDead(%q) = %d, %v; want 1", q, n, err)
		}
		if err := e.a.Cancel(ctx, q, id); err != nil {
			t.Errorf("Cancel(%q, %s): %v", q, id, err)
		}
		if n, err := e.a.PurgeDead(ctx, q, nil); err != nil || n != 1 {
			t.Errorf("PurgeDead(%q) = %d, %v; want 1", q, n, err)
		}
		wantCounts(t, e.a, q, 0, 0, 0, 0)
	}
}
