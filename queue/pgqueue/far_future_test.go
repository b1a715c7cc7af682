package pgqueue_test

import (
	"math"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

// Jobs due, leased or held far in the future (up to the largest
// time.Duration from now) wait and keep their times.
func TestFarFutureTimes(t *testing.T) {
	b, _ := newBackend(t, pgqueue.Options{Logger: quiet})
	far := time.Now().Add(math.MaxInt64)
	j1, j2, j3 := job("q"), job("q"), job("q")
	j1.RunAt = far
	j2.RunAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	j3.UniqueKey, j3.UniqueUntil = "u", far
	j3.Timeout = math.MaxInt64
	ids := enqueue(t, b, j1, j2, j3)
	j4 := job("q")
	j4.UniqueKey, j4.UniqueUntil = "u", far
	res, err := b.Enqueue(ctxT(t), []*queue.Job{j4})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[0].ID != ids[2] {
		t.Fatalf("enqueue with key held until %v = %+v; want a duplicate of %s", far, res[0], ids[2])
	}
	jobs := fetch(t, b, "q", 10, math.MaxInt64)
	if len(jobs) != 1 || jobs[0].ID != ids[2] {
		t.Fatalf("Fetch = %d jobs; want only the ready one", len(jobs))
	}
	if jobs[0].Timeout <= 0 {
		t.Fatalf("fetched Timeout = %v; want > 0", jobs[0].Timeout)
	}
	ok, err := b.Extend(ctxT(t), jobs, math.MaxInt64)
	if err != nil || !ok[0] {
		t.Fatalf("Extend by MaxInt64 = %v, %v", ok, err)
	}
	if errs := settle(t, b, queue.Outcome{Job: jobs[0], Kind: queue.Snooze, At: far}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if jobs := fetch(t, b, "q", 10, time.Minute); len(jobs) != 0 {
		t.Fatalf("Fetch after snoozing until %v = %d jobs; want none", far, len(jobs))
	}
}
