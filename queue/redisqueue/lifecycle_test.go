package redisqueue_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

func TestEnqueueFetchSettleDone(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	in := job("email", func(j *queue.Job) { j.Meta = map[string]string{"traceparent": "00-x"}; j.UniqueKey = "" })
	res := enqueue(t, b, in)
	if res[0].ID == "" || res[0].Duplicate {
		t.Fatalf("result %+v", res[0])
	}
	got := fetch(t, b, 10, time.Minute)
	if len(got) != 1 {
		t.Fatalf("fetched %d jobs, want 1", len(got))
	}
	j := got[0]
	if j.ID != res[0].ID || j.Kind != "email" || string(j.Args) != `{"n":1}` || j.Attempt != 1 || j.MaxAttempts != 3 ||
		j.Meta["traceparent"] != "00-x" || j.Lease == "" || !j.RunAt.Equal(in.RunAt) || !j.EnqueuedAt.Equal(in.EnqueuedAt) || j.Timeout != time.Minute {
		t.Fatalf("fetched %+v\nenqueued %+v", j, in)
	}
	if again := fetch(t, b, 10, time.Minute); len(again) != 0 {
		t.Fatalf("a leased job was fetched again: %+v", again)
	}
	if errs := settle(t, b, queue.Outcome{Job: j, Kind: queue.Done}); errs[0] != nil {
		t.Fatal(errs[0])
	}
	// A resent Done with the same lease is not an error; another kind is.
	if errs := settle(t, b, queue.Outcome{Job: j, Kind: queue.Done}); errs[0] != nil {
		t.Fatalf("second Done: %v", errs[0])
	}
	if errs := settle(t, b, queue.Outcome{Job: j, Kind: queue.Retry, At: time.Now()}); !errors.Is(errs[0], queue.ErrLeaseLost) {
		t.Fatalf("Retry after Done: %v, want ErrLeaseLost", errs[0])
	}
	st, err := b.Stats(ctxT(t), "q")
	if err != nil || st != (queue.BackendStats{}) {
		t.Fatalf("stats %+v, %v; want all zero", st, err)
	}
}

func TestFetchOrderPriorityThenRunAt(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	now := time.Now()
	var jobs []*queue.Job
	for i, p := range []int{3, 1, 0, 1, 0} {
		jobs = append(jobs, job(fmt.Sprint("k", i), func(j *queue.Job) {
			j.Priority = p
			j.RunAt = now.Add(-time.Duration(i) * time.Second) // later ones ran out of time first
		}))
	}
	enqueue(t, b, jobs...)
	got := fetch(t, b, 10, time.Minute)
	var kinds []string
	for _, j := range got {
		kinds = append(kinds, j.Kind)
	}
	if want := "k4 k2 k3 k1 k0"; strings.Join(kinds, " ") != want {
		t.Fatalf("order %v, want %s", kinds, want)
	}
}

func TestDelayedJobWaitsForRunAt(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	enqueue(t, b, job("later", func(j *queue.Job) { j.RunAt = time.Now().Add(300 * time.Millisecond) }))
	if got := fetch(t, b, 1, time.Minute); len(got) != 0 {
		t.Fatalf("fetched a delayed job before its time")
	}
	st, _ := b.Stats(ctxT(t), "q")
	if st.Scheduled != 1 || st.Ready != 0 {
		t.Fatalf("stats %+v", st)
	}
	if err := b.Wait(ctxT(t), "q", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := fetch(t, b, 1, time.Minute); len(got) == 1 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the delayed job never became ready")
}

func TestLeaseExpiryRefetchesThenDeadLetters(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	enqueue(t, b, job("crashy", func(j *queue.Job) { j.MaxAttempts = 2 }))
	var last *queue.Job
	for attempt := 1; attempt <= 2; attempt++ {
		var got []*queue.Job
		for deadline := time.Now().Add(5 * time.Second); len(got) == 0 && time.Now().Before(deadline); {
			got = fetch(t, b, 1, 100*time.Millisecond)
			if len(got) == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if len(got) != 1 || got[0].Attempt != attempt {
			t.Fatalf("attempt %d: fetched %+v", attempt, got)
		}
		last = got[0]
	}
	time.Sleep(150 * time.Millisecond)
	if got := fetch(t, b, 1, time.Minute); len(got) != 0 {
		t.Fatalf("fetched %+v after MaxAttempts", got)
	}
	if errs := settle(t, b, queue.Outcome{Job: last, Kind: queue.Done}); !errors.Is(errs[0], queue.ErrLeaseLost) {
		t.Fatalf("Done after the lease ran out: %v", errs[0])
	}
	dead, err := b.Dead(ctxT(t), "q", queue.Page{})
	if err != nil || len(dead) != 1 || dead[0].Reason != "lease expired on attempt 2" || dead[0].Job.Kind != "crashy" {
		t.Fatalf("dead %+v, %v", dead, err)
	}
}

func TestSettleKinds(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	enqueue(t, b, job("a"), job("b"), job("c"), job("d"))
	got := fetch(t, b, 4, time.Minute)
	if len(got) != 4 {
		t.Fatalf("fetched %d", len(got))
	}
	future := time.Now().Add(time.Hour)
	errs := settle(t, b,
		queue.Outcome{Job: got[0], Kind: queue.Retry, At: future, Err: "boom"},
		queue.Outcome{Job: got[1], Kind: queue.Snooze, At: future},
		queue.Outcome{Job: got[2], Kind: queue.Dead, Err: "bad args"},
		queue.Outcome{Job: got[3], Kind: queue.Release},
	)
	for i, err := range errs {
		if err != nil {
			t.Fatalf("outcome %d: %v", i, err)
		}
	}
	// resent: same answers
	errs = settle(t, b,
		queue.Outcome{Job: got[0], Kind: queue.Retry, At: future, Err: "boom"},
		queue.Outcome{Job: got[2], Kind: queue.Dead, Err: "bad args"},
	)
	if errs[0] != nil || errs[1] != nil {
		t.Fatalf("resent settle: %v", errs)
	}
	st, _ := b.Stats(ctxT(t), "q")
	if st.Ready != 1 || st.Scheduled != 2 || st.Dead != 1 || st.Running != 0 {
		t.Fatalf("stats %+v", st)
	}
	r := fetch(t, b, 4, time.Minute)
	if len(r) != 1 || r[0].Kind != "d" || r[0].Attempt != 1 {
		t.Fatalf("after release fetched %+v", r)
	}
	dead, _ := b.Dead(ctxT(t), "q", queue.Page{})
	if len(dead) != 1 || dead[0].Reason != "bad args" || dead[0].Job.LastError != "bad args" {
		t.Fatalf("dead %+v", dead)
	}
	if n, err := b.RetryDead(ctxT(t), "q", nil); n != 1 || err != nil {
		t.Fatalf("RetryDead: %d, %v", n, err)
	}
	r = fetch(t, b, 4, time.Minute)
	if len(r) != 1 || r[0].Kind != "c" || r[0].Attempt != 1 {
		t.Fatalf("after RetryDead fetched %+v", r)
	}
}

func TestUniqueKey(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	u := func(j *queue.Job) { j.UniqueKey = "once"; j.UniqueUntil = time.Now().Add(time.Hour) }
	res := enqueue(t, b, job("a", u), job("a", u))
	if res[0].Duplicate || !res[1].Duplicate || res[1].ID != res[0].ID {
		t.Fatalf("results %+v", res)
	}
	res2 := enqueue(t, b, job("a", u))
	if !res2[0].Duplicate || res2[0].ID != res[0].ID {
		t.Fatalf("results %+v", res2)
	}
}

func TestCancel(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	res := enqueue(t, b, job("waiting"), job("running"), job("later", func(j *queue.Job) { j.RunAt = time.Now().Add(time.Hour) }))
	if err := b.Cancel(ctxT(t), "q", res[0].ID); err != nil {
		t.Fatal(err)
	}
	got := fetch(t, b, 5, time.Minute)
	if len(got) != 1 || got[0].Kind != "running" {
		t.Fatalf("fetched %+v", got)
	}
	if err := b.Cancel(ctxT(t), "q", got[0].ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.Extend(ctxT(t), got, time.Minute); err != nil || ok[0] {
		t.Fatalf("Extend of a cancelled job: %v %v", ok, err)
	}
	if errs := settle(t, b, queue.Outcome{Job: got[0], Kind: queue.Done}); !errors.Is(errs[0], queue.ErrLeaseLost) {
		t.Fatalf("Settle of a cancelled job: %v", errs[0])
	}
	if err := b.Cancel(ctxT(t), "q", res[2].ID); err != nil {
		t.Fatal(err)
	}
	if err := b.Cancel(ctxT(t), "q", res[2].ID); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("cancel twice: %v", err)
	}
	dead, _ := b.Dead(ctxT(t), "q", queue.Page{Limit: 2})
	if len(dead) != 2 || dead[0].Reason != "cancelled" {
		t.Fatalf("dead %+v", dead)
	}
	more, _ := b.Dead(ctxT(t), "q", queue.Page{Limit: 2, After: dead[1].Cursor})
	if len(more) != 1 {
		t.Fatalf("second page %+v", more)
	}
	if n, err := b.PurgeDead(ctxT(t), "q", []string{dead[0].Job.ID, "nope"}); n != 1 || err != nil {
		t.Fatalf("purge: %d %v", n, err)
	}
}

func TestLimitAndPause(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	for range 5 {
		enqueue(t, b, job("x"))
	}
	req := queue.FetchRequest{Queue: "q", Max: 10, Lease: time.Minute, Limit: 2}
	got, err := b.Fetch(ctxT(t), req)
	if err != nil || len(got) != 2 {
		t.Fatalf("fetched %d, %v; want 2 (Limit)", len(got), err)
	}
	if got, _ := b.Fetch(ctxT(t), req); len(got) != 0 {
		t.Fatalf("fetched %d over the limit", len(got))
	}
	if err := b.Pause(ctxT(t), "q", true); err != nil {
		t.Fatal(err)
	}
	if got := fetch(t, b, 10, time.Minute); len(got) != 0 {
		t.Fatalf("fetched %d while paused", len(got))
	}
	_ = b.Pause(ctxT(t), "q", false)
	if got := fetch(t, b, 10, time.Minute); len(got) != 3 {
		t.Fatalf("fetched %d after resume", len(got))
	}
}

func TestRateLimit(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	for range 10 {
		enqueue(t, b, job("x"))
	}
	req := queue.FetchRequest{Queue: "q", Max: 10, Lease: time.Minute, Rate: queue.Rate{N: 3, Per: time.Hour}}
	got, err := b.Fetch(ctxT(t), req)
	if err != nil || len(got) != 3 {
		t.Fatalf("fetched %d, %v; want the burst of 3", len(got), err)
	}
	if got, _ := b.Fetch(ctxT(t), req); len(got) != 0 {
		t.Fatalf("fetched %d beyond the rate", len(got))
	}
}
