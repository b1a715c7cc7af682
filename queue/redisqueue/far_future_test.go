package redisqueue_test

import (
	"math"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// Jobs due, leased or held far in the future (up to the largest
// time.Duration from now) wait and keep their times.
func TestFarFutureTimes(t *testing.T) {
	b := newBackend(t, redisqueue.Options{Logger: quietLog})
	far := time.Now().Add(math.MaxInt64)
	res := enqueue(t, b,
		job("k", func(j *queue.Job) { j.RunAt = far }),
		job("k", func(j *queue.Job) { j.RunAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }),
		job("k", func(j *queue.Job) { j.UniqueKey = "u"; j.UniqueUntil = far }),
	)
	dup := enqueue(t, b, job("k", func(j *queue.Job) { j.UniqueKey = "u"; j.UniqueUntil = far }))
	if !dup[0].Duplicate || dup[0].ID != res[2].ID {
		t.Fatalf("enqueue with key held until %v = %+v; want a duplicate of %s", far, dup[0], res[2].ID)
	}
	jobs := fetch(t, b, 10, math.MaxInt64)
	if len(jobs) != 1 || jobs[0].ID != res[2].ID {
		t.Fatalf("Fetch = %d jobs; want only the ready one", len(jobs))
	}
	if got := jobs[0].UniqueUntil; got.Before(time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("fetched UniqueUntil = %v; want far in the future (%v, or 2262 where nanoseconds end)", got, far)
	}
	ok, err := b.Extend(ctxT(t), jobs, math.MaxInt64)
	if err != nil || !ok[0] {
		t.Fatalf("Extend by MaxInt64 = %v, %v", ok, err)
	}
	if errs := settle(t, b, queue.Outcome{Job: jobs[0], Kind: queue.Snooze, At: far}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if jobs := fetch(t, b, 10, time.Minute); len(jobs) != 0 {
		t.Fatalf("Fetch after snoozing until %v = %d jobs; want none", far, len(jobs))
	}
	st, err := b.Stats(ctxT(t), "q")
	if err != nil {
		t.Fatal(err)
	}
	if st.Scheduled != 3 {
		t.Fatalf("Stats = %+v; want 3 scheduled", st)
	}
}
