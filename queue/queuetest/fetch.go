package queuetest

import (
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// Fetch hands out the lowest Priority first, whatever the enqueue order.
func testFetchOrderPriority(t *testing.T, e *env) {
	var id []string
	for _, p := range []int{2, 0, 3, 1, 0} {
		j := job(e.queue)
		j.Priority = p
		id = append(id, enqueueIDs(t, e.a, j)[0])
	}
	want := []string{id[1], id[4], id[3], id[0], id[2]}
	var got []string
	for range want {
		got = append(got, e.fetchOne(t, e.b).ID)
	}
	if !equalOrder(got, want) {
		t.Fatalf("fetch order %q, want by priority %q (enqueued with priorities 2, 0, 3, 1, 0: %q)", got, want, id)
	}
}

// Fetch hands out the lowest Priority first, then the earliest RunAt, then
// the earliest enqueued.
func testFetchOrder(t *testing.T, e *env) {
	now := time.Now()
	mk := func(prio int, runAt time.Duration) *queue.Job {
		j := job(e.queue)
		j.Priority, j.RunAt = prio, now.Add(runAt)
		return j
	}
	// Enqueued out of order, one call each so that enqueue order is defined.
	in := []*queue.Job{
		mk(1, -time.Minute),    // 4th: priority 1
		mk(0, -time.Second),    // 3rd: priority 0, latest RunAt
		mk(3, -time.Hour),      // 6th: priority 3 despite the oldest RunAt
		mk(0, -2*time.Second),  // 1st: priority 0, earliest RunAt, enqueued first
		mk(0, -2*time.Second),  // 2nd: same, enqueued second
		mk(2, -30*time.Second), // 5th
	}
	var id []string
	for _, j := range in {
		id = append(id, enqueueIDs(t, e.a, j)[0])
	}
	want := []string{id[3], id[4], id[1], id[0], id[5], id[2]}
	var got []string
	for range want {
		got = append(got, e.fetchOne(t, e.b).ID)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fetch order %q, want %q (enqueued %q)", got, want, id)
		}
	}
}

// A delayed job is not handed out before its RunAt, and is after it.
func testFetchDelayed(t *testing.T, e *env) {
	later := job(e.queue)
	later.RunAt = time.Now().Add(time.Hour)
	soon := job(e.queue)
	soon.RunAt = time.Now().Add(e.opts.Lease)
	ids := enqueueIDs(t, e.a, later, soon)
	e.fetchNone(t, e.b, "before RunAt")
	wantCounts(t, e.a, e.queue, 0, 2, 0, 0)
	got := e.eventuallyFetch(t, e.b, time.Minute)
	if got.ID != ids[1] {
		t.Fatalf("fetched %s, want the job due soon %s", got.ID, ids[1])
	}
	if now := time.Now(); now.Before(soon.RunAt.Add(-e.opts.TimePrecision)) {
		t.Fatalf("fetched at %v, before its RunAt %v", now, soon.RunAt)
	}
	e.fetchNone(t, e.b, "the job an hour away")
	wantCounts(t, e.a, e.queue, 0, 1, 1, 0)
}

// Fetch returns at most Max jobs, and what is left on the next call.
func testFetchMax(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 5)...)
	if js := e.fetch(t, e.a, 2, time.Minute); len(js) != 2 {
		t.Fatalf("Fetch Max 2 of 5 returned %d jobs", len(js))
	}
	if js := e.fetch(t, e.a, 10, time.Minute); len(js) != 3 {
		t.Fatalf("Fetch Max 10 of the 3 left returned %d jobs", len(js))
	}
	e.fetchNone(t, e.a, "all leased")
}

// Fetch of an empty (or never used) queue returns no job and no error.
func testFetchEmpty(t *testing.T, e *env) {
	e.fetchNone(t, e.a, "empty queue")
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
}

// A queue's jobs are fetched from that queue only.
func testFetchQueuesApart(t *testing.T, e *env) {
	j := job(e.other("x"))
	enqueueIDs(t, e.a, j)
	e.fetchNone(t, e.a, "another queue's job")
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
	wantCounts(t, e.a, e.other("x"), 1, 0, 0, 0)
}

// A leased job is invisible to every other Fetch, of either instance.
func testLeaseHides(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	got := e.fetchOne(t, e.a)
	if got.ID != id || got.Attempt != 1 {
		t.Fatalf("fetched %s attempt %d, want %s attempt 1", got.ID, got.Attempt, id)
	}
	e.fetchNone(t, e.a, "leased, same instance")
	e.fetchNone(t, e.b, "leased, other instance")
	wantCounts(t, e.b, e.queue, 0, 0, 1, 0)
}

// A job whose lease ran out is handed out again, as the next attempt and
// under a new lease; the old lease is lost.
func testLeaseExpiry(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	first := e.fetch(t, e.a, 1, e.opts.Lease)
	if len(first) != 1 {
		t.Fatal("Fetch returned no job")
	}
	old := *first[0]
	again := e.eventuallyFetch(t, e.b, time.Minute)
	if again.ID != id || again.Attempt != 2 {
		t.Fatalf("after the lease ran out fetched %s attempt %d, want %s attempt 2", again.ID, again.Attempt, id)
	}
	if again.Lease == old.Lease {
		t.Fatalf("the second attempt has the first one's lease %q", old.Lease)
	}
	ok, err := e.a.Extend(t.Context(), []*queue.Job{&old}, time.Minute)
	if err != nil || len(ok) != 1 || ok[0] {
		t.Fatalf("Extend of the expired lease = %v, %v; want [false]", ok, err)
	}
	wantLost(t, "Settle with the expired lease", settle(t, e.a, queue.Outcome{Job: &old, Kind: queue.Done})[0])
	settleOK(t, e.b, queue.Outcome{Job: again, Kind: queue.Done})
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
}

// A job that keeps losing its lease (its worker crashes) is dead-lettered
// once it has used MaxAttempts, by the Fetch that would start one more.
func testLeaseExpiryDead(t *testing.T, e *env) {
	j := job(e.queue)
	j.MaxAttempts = 2
	id := enqueueIDs(t, e.a, j)[0]
	for attempt := 1; attempt <= 2; attempt++ {
		got := e.eventuallyFetch(t, e.a, e.opts.Lease)
		if got.ID != id || got.Attempt != attempt {
			t.Fatalf("fetched %s attempt %d, want %s attempt %d", got.ID, got.Attempt, id, attempt)
		}
	}
	deadline := time.Now().Add(20 * e.opts.Lease)
	for {
		if js := e.fetch(t, e.b, 1, time.Minute); len(js) != 0 {
			t.Fatalf("fetched %s attempt %d past MaxAttempts 2", js[0].ID, js[0].Attempt)
		}
		if s := stats(t, e.b, e.queue); s.Dead == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job was not dead-lettered within %v of its last lease", 20*e.opts.Lease)
		}
		time.Sleep(e.opts.Lease / 10)
	}
	d := deadOne(t, e.a, e.queue)
	if d.Job.ID != id || !strings.Contains(d.Reason, "lease expired on attempt 2") {
		t.Fatalf("dead letter %s reason %q, want %s with %q", d.Job.ID, d.Reason, id, "lease expired on attempt 2")
	}
	wantCounts(t, e.a, e.queue, 0, 0, 0, 1)
}

// Extend renews a lease: the job stays hidden past its first lease.
func testExtendKeeps(t *testing.T, e *env) {
	enqueueIDs(t, e.a, job(e.queue))
	js := e.fetch(t, e.a, 1, 2*e.opts.Lease)
	if len(js) != 1 {
		t.Fatal("Fetch returned no job")
	}
	ok, err := e.b.Extend(t.Context(), js, time.Minute)
	if err != nil || len(ok) != 1 || !ok[0] {
		t.Fatalf("Extend = %v, %v; want [true]", ok, err)
	}
	time.Sleep(3 * e.opts.Lease)
	e.fetchNone(t, e.b, "past the first lease, extended")
	settleOK(t, e.a, queue.Outcome{Job: js[0], Kind: queue.Done})
}

// Extend sets the deadline d from now, so a shorter d shortens the lease.
func testExtendShortens(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	js := e.fetch(t, e.a, 1, time.Hour)
	ok, err := e.a.Extend(t.Context(), js, e.opts.Lease)
	if err != nil || len(ok) != 1 || !ok[0] {
		t.Fatalf("Extend = %v, %v; want [true]", ok, err)
	}
	if got := e.eventuallyFetch(t, e.b, time.Minute); got.ID != id || got.Attempt != 2 {
		t.Fatalf("fetched %s attempt %d, want %s attempt 2", got.ID, got.Attempt, id)
	}
}

// Extend reports false for a job that no longer exists and for a lease that
// is not the job's, true for a live lease in the same call.
func testExtendLost(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 2)...)
	js := e.fetch(t, e.a, 2, time.Minute)
	if len(js) != 2 {
		t.Fatalf("Fetch returned %d jobs, want 2", len(js))
	}
	settleOK(t, e.a, queue.Outcome{Job: js[0], Kind: queue.Done})
	forged := *js[1]
	forged.Lease = "not-a-lease-" + forged.Lease
	ok, err := e.b.Extend(t.Context(), []*queue.Job{js[0], js[1], &forged}, time.Minute)
	if err != nil {
		t.Fatalf("Extend: %v", err)
	}
	if want := []bool{false, true, false}; len(ok) != 3 || ok[0] || !ok[1] || ok[2] {
		t.Fatalf("Extend(done, live, forged lease) = %v, want %v", ok, want)
	}
}
