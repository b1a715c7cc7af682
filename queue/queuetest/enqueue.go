package queuetest

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// Enqueue returns one new, distinct ID per job, in order.
func testEnqueueIDs(t *testing.T, e *env) {
	js := jobs(e.queue, 3)
	got := enqueueIDs(t, e.a, js...)
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			t.Fatalf("Enqueue returned ID %q twice: %q", id, got)
		}
		seen[id] = true
	}
	for i, j := range js {
		if j.ID != "" {
			t.Errorf("Enqueue set the caller's jobs[%d].ID to %q; IDs come back in the results", i, j.ID)
		}
	}
	more := enqueueIDs(t, e.b, jobs(e.queue, 3)...)
	for _, id := range more {
		if seen[id] {
			t.Fatalf("a second Enqueue reused ID %q", id)
		}
	}
	wantCounts(t, e.a, e.queue, 6, 0, 0, 0)
	// Fetched jobs come back under the IDs Enqueue gave.
	fetched := e.fetch(t, e.a, 10, time.Minute)
	want := append(got, more...)
	if g := sortedIDs(fetched); !equalSorted(g, want) {
		t.Fatalf("fetched IDs %q, enqueued %q", g, want)
	}
}

func equalSorted(got, want []string) bool {
	w := slices.Clone(want)
	slices.Sort(w)
	return slices.Equal(got, w)
}

// An empty batch stores nothing and is no error.
func testEnqueueEmpty(t *testing.T, e *env) {
	res, err := e.a.Enqueue(t.Context(), nil)
	if err != nil || len(res) != 0 {
		t.Fatalf("Enqueue(nil) = %v, %v; want no results, no error", res, err)
	}
}

// Every field a producer sets comes back on the fetched job.
func testEnqueueKeepsFields(t *testing.T, e *env) {
	now := time.Now()
	j := &queue.Job{
		Kind: "send-email", Queue: e.queue, Args: []byte("{\"to\":\"ü@x\",\"bin\":\"\\u0000\"}"),
		Priority: 2, MaxAttempts: 7, Timeout: 90 * time.Second,
		RunAt: now.Add(-time.Second), EnqueuedAt: now.Add(-2 * time.Second),
		UniqueKey: "keep-fields", UniqueUntil: now.Add(time.Hour),
		Meta: map[string]string{"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "k": "v"},
	}
	want := *j
	id := enqueueIDs(t, e.a, j)[0]
	got := e.fetchOne(t, e.b)
	if got.ID != id || got.Kind != want.Kind || got.Queue != want.Queue || !bytes.Equal(got.Args, want.Args) ||
		got.Priority != want.Priority || got.MaxAttempts != want.MaxAttempts || got.Timeout != want.Timeout ||
		got.UniqueKey != want.UniqueKey || !maps.Equal(got.Meta, want.Meta) {
		t.Fatalf("fetched %+v\nenqueued %+v", got, want)
	}
	if got.Attempt != 1 {
		t.Errorf("Attempt = %d on the first fetch, want 1", got.Attempt)
	}
	if got.LastError != "" {
		t.Errorf("LastError = %q on the first fetch, want empty", got.LastError)
	}
	e.sameTime(t, "RunAt", got.RunAt, want.RunAt)
	e.sameTime(t, "EnqueuedAt", got.EnqueuedAt, want.EnqueuedAt)
	e.sameTime(t, "UniqueUntil", got.UniqueUntil, want.UniqueUntil)
}

// One call stores 1,000 jobs, and every one of them is fetched once.
func testEnqueueLargeBatch(t *testing.T, e *env) {
	const n = 1000
	want := enqueueIDs(t, e.a, jobs(e.queue, n)...)
	wantCounts(t, e.b, e.queue, n, 0, 0, 0)
	var got []*queue.Job
	for len(got) < n {
		js := e.fetch(t, e.b, 100, time.Minute)
		if len(js) == 0 {
			t.Fatalf("Fetch returned nothing after %d of %d jobs", len(got), n)
		}
		got = append(got, js...)
	}
	if g := sortedIDs(got); !equalSorted(g, want) {
		t.Fatalf("fetched %d IDs that differ from the %d enqueued", len(g), len(want))
	}
	e.fetchNone(t, e.a, "after fetching all")
}

// A job without a Queue goes to "default".
func testEnqueueDefaultQueue(t *testing.T, e *env) {
	j := job("")
	j.Kind = "queuetest-default-" + e.queue
	id := enqueueIDs(t, e.a, j)[0]
	// Other subtests (or users of a shared store) may use "default": look
	// for this job among the ready ones, and settle what we take.
	for range 100 {
		js := fetchReq(t, e.a, queue.FetchRequest{Queue: "default", Max: 100, Lease: time.Minute})
		if len(js) == 0 {
			break
		}
		found := false
		var back []queue.Outcome
		for _, f := range js {
			if f.ID == id {
				found = true
				if f.Queue != "default" {
					t.Errorf("Queue = %q, want default", f.Queue)
				}
				back = append(back, queue.Outcome{Job: f, Kind: queue.Done})
			} else {
				back = append(back, queue.Outcome{Job: f, Kind: queue.Release})
			}
		}
		settleOK(t, e.a, back...)
		if found {
			return
		}
	}
	t.Fatalf("the job enqueued without a Queue (ID %s) is not in queue default", id)
}

func (e *env) unique(key string, until time.Time) *queue.Job {
	j := job(e.queue)
	j.UniqueKey, j.UniqueUntil = key, until
	return j
}

// A job whose key is held is not stored: its result names the holder.
func testUniqueDuplicate(t *testing.T, e *env) {
	until := time.Now().Add(time.Hour)
	first := enqueueIDs(t, e.a, e.unique("k", until))[0]
	res := enqueue(t, e.b, e.unique("k", until))[0]
	if !res.Duplicate || res.ID != first {
		t.Fatalf("second enqueue with the held key = %+v, want Duplicate of %s", res, first)
	}
	enqueueIDs(t, e.a, e.unique("other-key", until))
	wantCounts(t, e.a, e.queue, 2, 0, 0, 0)
}

// Within one batch, the second job with a key is a duplicate of the first.
func testUniqueInBatch(t *testing.T, e *env) {
	until := time.Now().Add(time.Hour)
	res := enqueue(t, e.a, e.unique("k", until), job(e.queue), e.unique("k", until))
	if res[0].Duplicate || res[1].Duplicate || !res[2].Duplicate || res[2].ID != res[0].ID {
		t.Fatalf("results %+v: want the third a duplicate of the first", res)
	}
	wantCounts(t, e.a, e.queue, 2, 0, 0, 0)
}

// Keys are per queue: the same key in another queue is free.
func testUniquePerQueue(t *testing.T, e *env) {
	until := time.Now().Add(time.Hour)
	enqueueIDs(t, e.a, e.unique("k", until))
	j := e.unique("k", until)
	j.Queue = e.other("2")
	enqueueIDs(t, e.a, j)
}

// Once its window ends, a key is free again.
func testUniqueWindowEnds(t *testing.T, e *env) {
	until := time.Now().Add(e.opts.Lease)
	first := enqueueIDs(t, e.a, e.unique("k", until))[0]
	time.Sleep(time.Until(until) + e.opts.Lease/2)
	res := enqueue(t, e.b, e.unique("k", time.Now().Add(time.Hour)))[0]
	if res.Duplicate || res.ID == first {
		t.Fatalf("enqueue after the window ended = %+v, want a new job", res)
	}
}

// A key stays held until UniqueUntil even after its job succeeded.
func testUniqueHeldAfterDone(t *testing.T, e *env) {
	until := time.Now().Add(time.Hour)
	first := enqueueIDs(t, e.a, e.unique("k", until))[0]
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Done})
	res := enqueue(t, e.b, e.unique("k", until))[0]
	if !res.Duplicate || res.ID != first {
		t.Fatalf("enqueue after the holder is done = %+v, want Duplicate of %s", res, first)
	}
}

// A key stays held until UniqueUntil even after its job was dead-lettered.
func testUniqueHeldAfterDead(t *testing.T, e *env) {
	until := time.Now().Add(time.Hour)
	first := enqueueIDs(t, e.a, e.unique("k", until))[0]
	if err := e.a.Cancel(t.Context(), e.queue, first); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	res := enqueue(t, e.b, e.unique("k", until))[0]
	if !res.Duplicate || res.ID != first {
		t.Fatalf("enqueue after the holder was cancelled = %+v, want Duplicate of %s", res, first)
	}
}
