package queuetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// Done deletes the job.
func testSettleDone(t *testing.T, e *env) {
	enqueueIDs(t, e.a, job(e.queue))
	settleOK(t, e.b, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Done})
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
	e.fetchNone(t, e.b, "after Done")
	if d := dead(t, e.a, e.queue, queue.Page{}); len(d) != 0 {
		t.Fatalf("Done left %d dead letters", len(d))
	}
}

// Retry with At now makes the job ready again as the next attempt, with the
// error recorded as LastError.
func testSettleRetry(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Retry, At: time.Now(), Err: "boom: try again"})
	got := e.eventuallyFetch(t, e.b, time.Minute)
	if got.ID != id || got.Attempt != 2 || got.LastError != "boom: try again" {
		t.Fatalf("refetched %s attempt %d LastError %q; want %s attempt 2 %q",
			got.ID, got.Attempt, got.LastError, id, "boom: try again")
	}
}

// Retry with a later At keeps the job scheduled until then.
func testSettleRetryDelayed(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	at := time.Now().Add(e.opts.Lease)
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Retry, At: at, Err: "later"})
	e.fetchNone(t, e.b, "before the retry's At")
	wantCounts(t, e.a, e.queue, 0, 1, 0, 0)
	got := e.eventuallyFetch(t, e.b, time.Minute)
	if got.ID != id || got.Attempt != 2 {
		t.Fatalf("refetched %s attempt %d, want %s attempt 2", got.ID, got.Attempt, id)
	}
	if now := time.Now(); now.Before(at.Add(-e.opts.TimePrecision)) {
		t.Fatalf("refetched at %v, before the retry's At %v", now, at)
	}
}

// Snooze runs the job again at At without using an attempt.
func testSettleSnooze(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	at := time.Now().Add(e.opts.Lease)
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Snooze, At: at})
	e.fetchNone(t, e.b, "before the snooze's At")
	wantCounts(t, e.a, e.queue, 0, 1, 0, 0)
	got := e.eventuallyFetch(t, e.b, time.Minute)
	if got.ID != id || got.Attempt != 1 {
		t.Fatalf("after a snooze fetched %s attempt %d, want %s attempt 1 (a snooze uses no attempt)", got.ID, got.Attempt, id)
	}
	settleOK(t, e.b, queue.Outcome{Job: got, Kind: queue.Snooze, At: time.Now()})
	if got = e.eventuallyFetch(t, e.a, time.Minute); got.Attempt != 1 {
		t.Fatalf("after a second snooze fetched attempt %d, want 1", got.Attempt)
	}
}

// Dead dead-letters the job with the error as the reason, listed by Dead.
func testSettleDead(t *testing.T, e *env) {
	j := job(e.queue)
	j.Args = []byte(`{"why":"listed"}`)
	id := enqueueIDs(t, e.a, j)[0]
	before := time.Now()
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Dead, Err: "unknown kind queuetest"})
	wantCounts(t, e.b, e.queue, 0, 0, 0, 1)
	e.fetchNone(t, e.b, "after Dead")
	d := deadOne(t, e.b, e.queue)
	if d.Job.ID != id || d.Reason != "unknown kind queuetest" || d.Job.Kind != j.Kind || !bytes.Equal(d.Job.Args, j.Args) {
		t.Fatalf("dead letter %+v, reason %q; want job %s with reason %q", d.Job, d.Reason, id, "unknown kind queuetest")
	}
	if d.DiedAt.Before(before.Add(-time.Second)) || d.DiedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("DiedAt %v, want about %v", d.DiedAt, before)
	}
	if d.Cursor == "" {
		t.Error("dead letter without a Cursor")
	}
}

// Release puts the job back ready at once, without using an attempt.
func testSettleRelease(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Release, At: time.Now().Add(time.Hour)})
	wantCounts(t, e.b, e.queue, 1, 0, 0, 0)
	got := e.fetchOne(t, e.b)
	if got.ID != id || got.Attempt != 1 {
		t.Fatalf("after Release fetched %s attempt %d, want %s attempt 1", got.ID, got.Attempt, id)
	}
}

// An outcome whose lease is not current changes nothing and reports
// ErrLeaseLost.
func testSettleStale(t *testing.T, e *env) {
	enqueueIDs(t, e.a, job(e.queue))
	got := e.fetchOne(t, e.a)
	for _, kind := range []queue.OutcomeKind{queue.Done, queue.Retry, queue.Snooze, queue.Dead, queue.Release} {
		forged := *got
		forged.Lease = "forged-" + got.Lease
		wantLost(t, "Settle with a forged lease", settle(t, e.b, queue.Outcome{Job: &forged, Kind: kind, At: time.Now()})[0])
	}
	wantCounts(t, e.a, e.queue, 0, 0, 1, 0)
	settleOK(t, e.b, queue.Outcome{Job: got, Kind: queue.Done})
}

// Settling an attempt again with the kind that settled it is no error (a
// handler may have completed its job in its own transaction); another kind
// is ErrLeaseLost and changes nothing.
func testSettleTwice(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 3)...)
	js := e.fetch(t, e.a, 3, time.Minute)
	if len(js) != 3 {
		t.Fatalf("Fetch returned %d jobs, want 3", len(js))
	}
	kinds := []queue.OutcomeKind{queue.Done, queue.Dead, queue.Retry}
	for i, k := range kinds {
		o := queue.Outcome{Job: js[i], Kind: k, At: time.Now().Add(time.Hour), Err: "e"}
		settleOK(t, e.a, o)
		if err := settle(t, e.b, o)[0]; err != nil {
			t.Fatalf("settling %v twice: %v, want nil", k, err)
		}
	}
	wantLost(t, "Retry after Done", settle(t, e.a, queue.Outcome{Job: js[0], Kind: queue.Retry, At: time.Now()})[0])
	wantLost(t, "Done after Dead", settle(t, e.a, queue.Outcome{Job: js[1], Kind: queue.Done})[0])
	wantCounts(t, e.a, e.queue, 0, 1, 0, 1)
}

// One Settle call applies each outcome on its own: one per-item error per
// outcome, in order.
func testSettleBatch(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 4)...)
	js := e.fetch(t, e.a, 4, time.Minute)
	if len(js) != 4 {
		t.Fatalf("Fetch returned %d jobs, want 4", len(js))
	}
	stale := *js[3]
	stale.Lease = "forged-" + stale.Lease
	errs := settle(t, e.b,
		queue.Outcome{Job: js[0], Kind: queue.Done},
		queue.Outcome{Job: &stale, Kind: queue.Done},
		queue.Outcome{Job: js[1], Kind: queue.Retry, At: time.Now().Add(time.Hour), Err: "x"},
		queue.Outcome{Job: js[2], Kind: queue.Dead, Err: "y"},
	)
	if errs[0] != nil || errs[2] != nil || errs[3] != nil {
		t.Fatalf("Settle errors %v: want nil for the live leases", errs)
	}
	wantLost(t, "the stale outcome in a batch", errs[1])
	wantCounts(t, e.a, e.queue, 0, 1, 1, 1)
}
