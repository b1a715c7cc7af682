package pgqueue_test

import (
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func TestEnqueueFetchSettleRoundTrip(t *testing.T) {
	b, _ := newBackend(t, pgqueue.Options{})
	ctx := ctxT(t)
	res, err := b.Enqueue(ctx, []*queue.Job{
		{Kind: "a", Queue: "q", Args: []byte(`{"x":1}`), Priority: 1, Meta: map[string]string{"k": "v"}},
		{Kind: "b", Queue: "q", Args: []byte(`{}`)},
		{Kind: "c", Queue: "q", UniqueKey: "u", UniqueUntil: time.Now().Add(time.Hour)},
		{Kind: "c", Queue: "q", UniqueKey: "u", UniqueUntil: time.Now().Add(time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	res2, err := b.Enqueue(ctx, []*queue.Job{{Kind: "c", Queue: "q", UniqueKey: "u", UniqueUntil: time.Now().Add(time.Hour)}})
	if err != nil || !res2[0].Duplicate || res2[0].ID != res[2].ID {
		t.Fatalf("dup: %+v %v", res2, err)
	}
	jobs, err := b.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: 10, Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		t.Logf("%+v", *j)
	}
	if len(jobs) != 3 || jobs[2].Kind != "a" || jobs[0].Attempt != 1 {
		t.Fatalf("got %d jobs", len(jobs))
	}
	ok, err := b.Extend(ctx, jobs, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(ok)
	errs, err := b.Settle(ctx, []queue.Outcome{{Job: jobs[0], Kind: queue.Done}, {Job: jobs[1], Kind: queue.Dead, Err: "boom"},
		{Job: jobs[2], Kind: queue.Retry, At: time.Now().Add(time.Hour), Err: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(errs)
	errs, err = b.Settle(ctx, []queue.Outcome{{Job: jobs[0], Kind: queue.Done}, {Job: jobs[1], Kind: queue.Dead, Err: "boom"},
		{Job: jobs[2], Kind: queue.Snooze, At: time.Now().Add(time.Hour)}})
	t.Log(errs, err)
	st, err := b.Stats(ctx, "q")
	t.Logf("%+v %v", st, err)
	dead, err := b.Dead(ctx, "q", queue.Page{})
	t.Logf("%+v %v", dead, err)
	b.Pause(ctx, "q", true)
	if err := b.Wait(ctx, "q", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	jobs, err = b.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: 10, Lease: time.Minute, Limit: 5, Rate: queue.Rate{N: 10, Per: time.Second}})
	t.Log(len(jobs), err)
}
