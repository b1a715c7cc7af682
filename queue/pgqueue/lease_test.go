package pgqueue_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func TestExpiredLeaseIsReclaimedThenDeadLettered(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t, pgqueue.Options{})
	j := job("q")
	j.MaxAttempts = 2
	id := enqueue(t, b, j)[0]
	lease := 200 * time.Millisecond
	first := fetch(t, b, "q", 1, lease)
	if len(first) != 1 || first[0].Attempt != 1 {
		t.Fatalf("first fetch: %+v", first)
	}
	if got := fetch(t, b, "q", 1, lease); len(got) != 0 {
		t.Fatalf("a leased job was fetched again: %+v", got)
	}
	var second []*queue.Job
	eventually(t, "the lease to run out", func() bool { second = fetch(t, b, "q", 1, lease); return len(second) == 1 })
	if second[0].Attempt != 2 || second[0].Lease == first[0].Lease {
		t.Fatalf("reclaimed job: attempt %d lease %s (first lease %s)", second[0].Attempt, second[0].Lease, first[0].Lease)
	}
	// The first holder is fenced off.
	if ok, err := b.Extend(ctxT(t), first, time.Minute); err != nil || ok[0] {
		t.Fatalf("Extend with the stale lease: %v %v", ok, err)
	}
	if errs := settle(t, b, queue.Outcome{Job: first[0], Kind: queue.Retry, At: time.Now(), Err: "x"}); !errors.Is(errs[0], queue.ErrLeaseLost) {
		t.Fatalf("Settle with the stale lease: %v", errs[0])
	}
	// Its last attempt's lease runs out too: the next Fetch dead-letters it.
	eventually(t, "the job to be dead-lettered", func() bool {
		if got := fetch(t, b, "q", 1, lease); len(got) != 0 {
			t.Fatalf("fetched after its last attempt: %+v", got[0])
		}
		st, err := b.Stats(ctxT(t), "q")
		return err == nil && st.Dead == 1
	})
	dead, err := b.Dead(ctxT(t), "q", queue.Page{})
	if err != nil || len(dead) != 1 || dead[0].Job.ID != id || dead[0].Reason != "lease expired on attempt 2" {
		t.Fatalf("dead letters: %+v %v", dead, err)
	}
}

func TestExtendKeepsLeaseAndCancelRevokesIt(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t, pgqueue.Options{})
	enqueue(t, b, job("q"), job("q"))
	jobs := fetch(t, b, "q", 2, 300*time.Millisecond)
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		ok, err := b.Extend(ctxT(t), jobs, 300*time.Millisecond)
		if err != nil || !ok[0] || !ok[1] {
			t.Fatalf("Extend: %v %v", ok, err)
		}
		if got := fetch(t, b, "q", 2, time.Minute); len(got) != 0 {
			t.Fatalf("an extended job was fetched again")
		}
	}
	if err := b.Cancel(ctxT(t), "q", jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	ok, err := b.Extend(ctxT(t), jobs, time.Minute)
	if err != nil || ok[0] || !ok[1] {
		t.Fatalf("Extend after Cancel: %v %v", ok, err)
	}
	errs := settle(t, b, queue.Outcome{Job: jobs[0], Kind: queue.Done}, queue.Outcome{Job: jobs[1], Kind: queue.Done})
	if !errors.Is(errs[0], queue.ErrLeaseLost) || errs[1] != nil {
		t.Fatalf("Settle after Cancel: %v", errs)
	}
	dead, _ := b.Dead(ctxT(t), "q", queue.Page{})
	if len(dead) != 1 || dead[0].Reason != "cancelled" {
		t.Fatalf("dead: %+v", dead)
	}
	if err := b.Cancel(ctxT(t), "q", jobs[0].ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("second Cancel: %v", err)
	}
	if err := b.Cancel(ctxT(t), "q", "not-an-id"); !errors.Is(err, queue.ErrNotFound) || strings.Count(err.Error(), "pgqueue:") != 1 {
		t.Fatalf("Cancel of a made-up ID: %v", err)
	}
}

func TestSettleIsIdempotentPerKind(t *testing.T) {
	t.Parallel()
	b, _ := newBackend(t, pgqueue.Options{})
	enqueue(t, b, job("q"), job("q"), job("q"), job("q"))
	jobs := fetch(t, b, "q", 4, time.Minute)
	later := time.Now().Add(time.Hour)
	outs := []queue.Outcome{
		{Job: jobs[0], Kind: queue.Done},
		{Job: jobs[1], Kind: queue.Dead, Err: "boom"},
		{Job: jobs[2], Kind: queue.Snooze, At: later},
		{Job: jobs[3], Kind: queue.Retry, At: later, Err: "again"},
	}
	for round := range 2 {
		for i, err := range settle(t, b, outs...) {
			if err != nil {
				t.Fatalf("round %d outcome %d: %v", round, i, err)
			}
		}
	}
	// Another kind with the same lease is refused.
	errs := settle(t, b, queue.Outcome{Job: jobs[2], Kind: queue.Retry, At: later, Err: "x"})
	if !errors.Is(errs[0], queue.ErrLeaseLost) {
		t.Fatalf("Retry after Snooze: %v", errs[0])
	}
	st, _ := b.Stats(ctxT(t), "q")
	if st.Scheduled != 2 || st.Dead != 1 || st.Running != 0 || st.Ready != 0 {
		t.Fatalf("stats: %+v", st)
	}
}
