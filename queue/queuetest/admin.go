package queuetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

func (e *env) cancel(t *testing.T, b queue.Backend, id string) {
	t.Helper()
	if err := b.Cancel(t.Context(), e.queue, id); err != nil {
		t.Fatalf("Cancel(%s): %v", id, err)
	}
}

func wantCancelled(t *testing.T, d queue.DeadJob, id string) {
	t.Helper()
	if d.Job.ID != id || !strings.HasPrefix(d.Reason, "cancelled") {
		t.Fatalf("dead letter %s reason %q, want %s with reason \"cancelled…\"", d.Job.ID, d.Reason, id)
	}
}

// Cancel dead-letters a waiting job at once.
func testCancelWaiting(t *testing.T, e *env) {
	ids := enqueueIDs(t, e.a, jobs(e.queue, 2)...)
	e.cancel(t, e.b, ids[0])
	wantCancelled(t, deadOne(t, e.a, e.queue), ids[0])
	if got := e.fetchOne(t, e.a); got.ID != ids[1] {
		t.Fatalf("fetched %s, want the job not cancelled %s", got.ID, ids[1])
	}
	e.fetchNone(t, e.a, "the cancelled job")
}

// Cancel dead-letters a delayed job at once.
func testCancelScheduled(t *testing.T, e *env) {
	j := job(e.queue)
	j.RunAt = time.Now().Add(time.Hour)
	id := enqueueIDs(t, e.a, j)[0]
	e.cancel(t, e.b, id)
	wantCancelled(t, deadOne(t, e.a, e.queue), id)
	wantCounts(t, e.a, e.queue, 0, 0, 0, 1)
}

// Cancel revokes a running job's lease: Extend reports it lost, its Settle
// is ErrLeaseLost, and it is dead-lettered.
func testCancelRunning(t *testing.T, e *env) {
	id := enqueueIDs(t, e.a, job(e.queue))[0]
	got := e.fetchOne(t, e.a)
	e.cancel(t, e.b, id)
	ok, err := e.a.Extend(t.Context(), []*queue.Job{got}, time.Minute)
	if err != nil || len(ok) != 1 || ok[0] {
		t.Fatalf("Extend of a cancelled job = %v, %v; want [false]", ok, err)
	}
	for _, k := range []queue.OutcomeKind{queue.Done, queue.Dead, queue.Retry} {
		wantLost(t, "Settle of a cancelled job", settle(t, e.a, queue.Outcome{Job: got, Kind: k, At: time.Now(), Err: "x"})[0])
	}
	wantCancelled(t, deadOne(t, e.a, e.queue), id)
	wantCounts(t, e.a, e.queue, 0, 0, 0, 1)
	e.fetchNone(t, e.b, "the cancelled job")
}

// Cancel of a job that is neither waiting nor running is ErrNotFound.
func testCancelMissing(t *testing.T, e *env) {
	ids := enqueueIDs(t, e.a, jobs(e.queue, 2)...)
	settleOK(t, e.a, queue.Outcome{Job: e.fetchOne(t, e.a), Kind: queue.Done})
	e.cancel(t, e.a, ids[1])
	for _, id := range ids {
		if err := e.b.Cancel(t.Context(), e.queue, id); !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("Cancel of a done or dead job: %v, want ErrNotFound", err)
		}
	}
	// Not in another queue either.
	other := enqueueIDs(t, e.a, job(e.other("x")))[0]
	if err := e.b.Cancel(t.Context(), e.queue, other); !errors.Is(err, queue.ErrNotFound) {
		t.Fatalf("Cancel of another queue's job: %v, want ErrNotFound", err)
	}
	wantCounts(t, e.a, e.other("x"), 1, 0, 0, 0)
}

// Pause through one instance stops every Fetch of every instance; Enqueue
// goes on; running jobs finish; resume hands out again.
func testPause(t *testing.T, e *env) {
	enqueueIDs(t, e.a, job(e.queue))
	running := e.fetchOne(t, e.b)
	if err := e.a.Pause(t.Context(), e.queue, true); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	enqueueIDs(t, e.b, jobs(e.queue, 2)...)
	e.fetchNone(t, e.a, "paused, same instance")
	e.fetchNone(t, e.b, "paused, other instance")
	if s := stats(t, e.b, e.queue); !s.Paused || s.Ready != 2 {
		t.Fatalf("Stats while paused = %+v, want Paused with 2 ready", s)
	}
	settleOK(t, e.b, queue.Outcome{Job: running, Kind: queue.Done})
	if err := e.b.Pause(t.Context(), e.queue, false); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if s := stats(t, e.a, e.queue); s.Paused {
		t.Fatal("Stats after resume: Paused")
	}
	if js := e.fetch(t, e.a, 10, time.Minute); len(js) != 2 {
		t.Fatalf("after resume fetched %d jobs, want 2", len(js))
	}
	// Other queues were never paused.
	enqueueIDs(t, e.a, job(e.other("x")))
	if err := e.a.Pause(t.Context(), e.queue, true); err != nil {
		t.Fatalf("Pause: %v", err)
	}
	if js := fetchReq(t, e.b, queue.FetchRequest{Queue: e.other("x"), Max: 1, Lease: time.Minute}); len(js) != 1 {
		t.Fatal("pausing one queue stopped another")
	}
}

// Limit caps the jobs of a queue leased at once across instances.
func testLimit(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 5)...)
	req := queue.FetchRequest{Queue: e.queue, Max: 5, Lease: time.Minute, Limit: 2}
	first := fetchReq(t, e.a, req)
	if len(first) != 2 {
		t.Fatalf("Fetch under Limit 2 returned %d jobs", len(first))
	}
	if js := fetchReq(t, e.b, req); len(js) != 0 {
		t.Fatalf("the other instance fetched %d jobs while the Limit was reached", len(js))
	}
	settleOK(t, e.a, queue.Outcome{Job: first[0], Kind: queue.Done})
	if js := fetchReq(t, e.b, req); len(js) != 1 {
		t.Fatalf("after one settle the other instance fetched %d jobs, want 1", len(js))
	}
	settleOK(t, e.a, queue.Outcome{Job: first[1], Kind: queue.Release})
	if js := fetchReq(t, e.b, req); len(js) != 1 {
		t.Fatalf("after a release the other instance fetched %d jobs, want 1", len(js))
	}
	req.Limit = 0
	if js := fetchReq(t, e.a, req); len(js) != 2 {
		t.Fatalf("without a Limit fetched %d jobs, want the 2 left", len(js))
	}
}

// Rate caps the starts of a queue across instances: a fresh bucket allows
// at most Burst at once, and not one more before it refills.
func testRate(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 10)...)
	rate := queue.Rate{N: 1, Per: time.Hour, Burst: 3}
	req := queue.FetchRequest{Queue: e.queue, Max: 2, Lease: time.Minute, Rate: rate}
	n := len(fetchReq(t, e.a, req))
	req.Max = 10
	n += len(fetchReq(t, e.b, req))
	n += len(fetchReq(t, e.a, req))
	if n < 1 || n > 3 {
		t.Fatalf("two instances started %d jobs under a Burst of 3 (N 1 per hour), want 1…3", n)
	}
	if js := fetchReq(t, e.b, req); len(js) != 0 {
		t.Fatalf("fetched %d more jobs with the bucket empty", len(js))
	}
	if s := stats(t, e.a, e.queue); s.Ready != int64(10-n) {
		t.Fatalf("Stats.Ready = %d, want %d: a rate-limited Fetch took jobs it did not return", s.Ready, 10-n)
	}
}

// A bucket refills at N per Per: more jobs start as time passes, and no
// more than the rate allows.
func testRateRefills(t *testing.T, e *env) {
	enqueueIDs(t, e.a, jobs(e.queue, 50)...)
	per := 2 * e.opts.Lease
	req := queue.FetchRequest{Queue: e.queue, Max: 50, Lease: time.Minute, Rate: queue.Rate{N: 2, Per: per, Burst: 1}}
	start := time.Now()
	n := 0
	for time.Since(start) < per*3/2 {
		n += len(fetchReq(t, e.a, req))
		n += len(fetchReq(t, e.b, req))
		time.Sleep(per / 20)
	}
	elapsed := time.Since(start)
	// At most the burst plus what 2 per Per earns over the time taken.
	limit := 1 + int(2*float64(elapsed)/float64(per)) + 1
	if n < 2 || n > limit {
		t.Fatalf("started %d jobs in %v under 2 per %v with Burst 1; want 2…%d", n, elapsed, per, limit)
	}
}

// Stats counts ready, scheduled, running and dead jobs, and the RunAt of
// the oldest ready one.
func testStats(t *testing.T, e *env) {
	now := time.Now()
	old, young := job(e.queue), job(e.queue)
	old.RunAt, young.RunAt = now.Add(-time.Hour), now.Add(-time.Minute)
	old.Priority = 3 // the oldest ready job, whatever its priority
	later := job(e.queue)
	later.RunAt = now.Add(time.Hour)
	enqueueIDs(t, e.a, job(e.queue), job(e.queue), old, young, later)
	// Fetch two (priority 0 first: the two undated jobs and young), settle one Dead.
	js := e.fetch(t, e.a, 2, time.Minute)
	if len(js) != 2 {
		t.Fatalf("Fetch returned %d jobs, want 2", len(js))
	}
	settleOK(t, e.a, queue.Outcome{Job: js[0], Kind: queue.Dead, Err: "x"})
	s := stats(t, e.b, e.queue)
	if s.Ready != 2 || s.Scheduled != 1 || s.Running != 1 || s.Dead != 1 || s.Paused {
		t.Fatalf("Stats = %+v; want ready 2, scheduled 1, running 1, dead 1, not paused", s)
	}
	e.sameTime(t, "Stats.Oldest", s.Oldest, old.RunAt)
	var empty queue.BackendStats
	if s := stats(t, e.b, e.other("unused")); s != empty {
		t.Fatalf("Stats of an unused queue = %+v, want zero", s)
	}
}

// makeDead makes n dead letters in order, each settled Dead in its own call
// with reason "r<i>", and returns their IDs oldest first.
func (e *env) makeDead(t *testing.T, n int) []string {
	t.Helper()
	enqueueIDs(t, e.a, jobs(e.queue, n)...)
	var ids []string
	for i := range n {
		j := e.fetchOne(t, e.a)
		settleOK(t, e.a, queue.Outcome{Job: j, Kind: queue.Dead, Err: "r" + string(rune('0'+i))})
		ids = append(ids, j.ID)
	}
	return ids
}

// Dead lists newest first, a page at a time, each page after the cursor of
// the previous page's last job.
func testDeadPaging(t *testing.T, e *env) {
	ids := e.makeDead(t, 5)
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	var got []string
	after := ""
	for range 4 {
		page := dead(t, e.b, e.queue, queue.Page{After: after, Limit: 2})
		if len(page) > 2 {
			t.Fatalf("a page of Limit 2 has %d jobs", len(page))
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			got = append(got, d.Job.ID)
		}
		after = page[len(page)-1].Cursor
	}
	if !equalOrder(got, want) {
		t.Fatalf("paged %q, want newest first %q", got, want)
	}
	all := dead(t, e.a, e.queue, queue.Page{})
	if len(all) != 5 || all[0].Reason != "r4" || all[4].Reason != "r0" {
		t.Fatalf("Dead with the default Limit listed %d jobs (first reason %q), want 5 newest first", len(all), all[0].Reason)
	}
	if last := dead(t, e.a, e.queue, queue.Page{After: all[4].Cursor}); len(last) != 0 {
		t.Fatalf("the page after the oldest job has %d jobs", len(last))
	}
}

func equalOrder(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// RetryDead moves the named dead letters back to ready with Attempt reset,
// skipping IDs that are not dead letters.
func testRetryDead(t *testing.T, e *env) {
	ids := e.makeDead(t, 3)
	live := enqueueIDs(t, e.a, job(e.queue))[0]
	n, err := e.b.RetryDead(t.Context(), e.queue, []string{ids[1], live, ids[1] + "-nope"})
	if err != nil || n != 1 {
		t.Fatalf("RetryDead = %d, %v; want 1", n, err)
	}
	wantCounts(t, e.a, e.queue, 2, 0, 0, 2)
	js := e.fetch(t, e.a, 10, time.Minute)
	for _, j := range js {
		if j.ID == ids[1] {
			if j.Attempt != 1 {
				t.Fatalf("a retried dead letter runs as attempt %d, want 1", j.Attempt)
			}
			return
		}
	}
	t.Fatalf("the retried dead letter %s was not among the %d fetched", ids[1], len(js))
}

// RetryDead with nil IDs moves every dead letter.
func testRetryDeadAll(t *testing.T, e *env) {
	e.makeDead(t, 3)
	n, err := e.a.RetryDead(t.Context(), e.queue, nil)
	if err != nil || n != 3 {
		t.Fatalf("RetryDead(nil) = %d, %v; want 3", n, err)
	}
	wantCounts(t, e.b, e.queue, 3, 0, 0, 0)
}

// PurgeDead deletes the named dead letters, or all of them.
func testPurgeDead(t *testing.T, e *env) {
	ids := e.makeDead(t, 3)
	n, err := e.b.PurgeDead(t.Context(), e.queue, []string{ids[0], ids[0] + "-nope"})
	if err != nil || n != 1 {
		t.Fatalf("PurgeDead = %d, %v; want 1", n, err)
	}
	if d := dead(t, e.a, e.queue, queue.Page{}); len(d) != 2 || d[0].Job.ID != ids[2] || d[1].Job.ID != ids[1] {
		t.Fatalf("after purging %s Dead lists %d jobs", ids[0], len(d))
	}
	if n, err = e.a.PurgeDead(t.Context(), e.queue, nil); err != nil || n != 2 {
		t.Fatalf("PurgeDead(nil) = %d, %v; want 2", n, err)
	}
	wantCounts(t, e.a, e.queue, 0, 0, 0, 0)
	if n, err = e.a.RetryDead(t.Context(), e.queue, ids); err != nil || n != 0 {
		t.Fatalf("RetryDead of purged jobs = %d, %v; want 0", n, err)
	}
}
