package queue_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
)

// waitReturns runs Wait in the background and reports when it returned.
func waitReturns(m *queue.Memory, ctx context.Context, q string, max time.Duration) <-chan time.Duration {
	ch := make(chan time.Duration, 1)
	start := time.Now()
	go func() {
		_ = m.Wait(ctx, q, max)
		ch <- time.Since(start)
	}()
	return ch
}

// A delayed job is invisible until its RunAt, to the nanosecond, and a
// Wait blocked on the queue wakes exactly then.
func TestMemoryDelayedWakesWaitAtRunAt(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{})
		j := memJobs("a", 1)[0]
		j.RunAt = time.Now().Add(90 * time.Second)
		memEnqueue(t, m, j)
		woke := waitReturns(m, t.Context(), "a", time.Hour)
		time.Sleep(90*time.Second - 1)
		if js := memFetch(t, m, "a", 1, time.Minute); len(js) != 0 {
			t.Fatal("fetched a delayed job before its RunAt")
		}
		if d := <-woke; d != 90*time.Second {
			t.Fatalf("Wait woke after %v, want at RunAt (90s)", d)
		}
		if js := memFetch(t, m, "a", 1, time.Minute); len(js) != 1 {
			t.Fatal("the job is not ready at its RunAt")
		}
	})
}

// An enqueue, a release and a resume wake a Wait at once; so does a settle
// that frees a slot under a Limit.
func TestMemoryWaitWakesAtOnce(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{})
		woke := waitReturns(m, t.Context(), "a", time.Hour)
		synctest.Wait()
		memEnqueue(t, m, memJobs("a", 2)...)
		if d := <-woke; d != 0 {
			t.Fatalf("Wait woke %v after the enqueue, want at once", d)
		}
		// Limit 1 reached: Wait sleeps until the running job settles.
		js, _ := m.Fetch(t.Context(), queue.FetchRequest{Queue: "a", Max: 2, Lease: time.Hour, Limit: 1})
		if len(js) != 1 {
			t.Fatalf("fetched %d under Limit 1", len(js))
		}
		woke = waitReturns(m, t.Context(), "a", time.Hour)
		time.Sleep(time.Minute)
		synctest.Wait()
		memSettle(t, m, queue.Done, js...)
		if d := <-woke; d != time.Minute {
			t.Fatalf("Wait under a reached Limit woke after %v, want when the slot freed (1m)", d)
		}
		// Paused: Wait sleeps until Resume.
		if err := m.Pause(t.Context(), "a", true); err != nil {
			t.Fatal(err)
		}
		woke = waitReturns(m, t.Context(), "a", time.Hour)
		time.Sleep(time.Minute)
		if err := m.Pause(t.Context(), "a", false); err != nil {
			t.Fatal(err)
		}
		if d := <-woke; d != time.Minute {
			t.Fatalf("Wait on a paused queue woke after %v, want at Resume (1m)", d)
		}
		// A release of a running job wakes at once.
		js = memFetch(t, m, "a", 1, time.Hour)
		woke = waitReturns(m, t.Context(), "a", time.Hour)
		synctest.Wait()
		memSettle(t, m, queue.Release, js...)
		if d := <-woke; d != 0 {
			t.Fatalf("Wait woke %v after a release, want at once", d)
		}
	})
}

// With nothing due, Wait returns after max; a lease running out wakes it
// at the deadline.
func TestMemoryWaitMaxAndLeaseDeadline(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{})
		if d := <-waitReturns(m, t.Context(), "a", 5*time.Second); d != 5*time.Second {
			t.Fatalf("idle Wait returned after %v, want max 5s", d)
		}
		memEnqueue(t, m, memJobs("a", 1)...)
		memFetch(t, m, "a", 1, 30*time.Second)
		if d := <-waitReturns(m, t.Context(), "a", time.Hour); d != 30*time.Second {
			t.Fatalf("Wait woke after %v, want when the lease ran out (30s)", d)
		}
		if js := memFetch(t, m, "a", 1, time.Minute); len(js) != 1 || js[0].Attempt != 2 {
			t.Fatal("the job whose lease ran out is not ready as attempt 2")
		}
	})
}

// Under a Rate, Wait wakes when the next token is due, and the bucket
// refills at N per Per.
func TestMemoryRateWakesAtNextToken(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{})
		memEnqueue(t, m, memJobs("a", 10)...)
		req := queue.FetchRequest{Queue: "a", Max: 10, Lease: time.Hour, Rate: queue.Rate{N: 2, Per: time.Second, Burst: 3}}
		if js, _ := m.Fetch(t.Context(), req); len(js) != 3 {
			t.Fatalf("a full bucket of 3 gave %d", len(js))
		}
		if js, _ := m.Fetch(t.Context(), req); len(js) != 0 {
			t.Fatalf("an empty bucket gave %d", len(js))
		}
		d := <-waitReturns(m, t.Context(), "a", time.Hour)
		if d <= 0 || d > 500*time.Millisecond+time.Millisecond {
			t.Fatalf("Wait for a token woke after %v, want about 500ms", d)
		}
		if js, _ := m.Fetch(t.Context(), req); len(js) != 1 {
			t.Fatalf("after a token's time fetched %d, want 1", len(js))
		}
		time.Sleep(10 * time.Second) // refills to Burst, no more
		if js, _ := m.Fetch(t.Context(), req); len(js) != 3 {
			t.Fatalf("after 10s fetched %d, want Burst 3", len(js))
		}
	})
}

// Dead letters older than Retention.MaxAge go, and at most MaxCount are
// kept (oldest removed first).
func TestMemoryRetention(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{Retention: queue.Retention{MaxAge: time.Hour, MaxCount: 3}})
		kill := func(n int) []string {
			memEnqueue(t, m, memJobs("a", n)...)
			var ids []string
			for range n {
				js := memFetch(t, m, "a", 1, time.Minute)
				memSettle(t, m, queue.Dead, js...)
				ids = append(ids, js[0].ID)
			}
			return ids
		}
		old := kill(2)
		time.Sleep(30 * time.Minute)
		young := kill(2)
		d, _ := m.Dead(t.Context(), "a", queue.Page{})
		if len(d) != 3 || d[0].Job.ID != young[1] || d[2].Job.ID != old[1] {
			t.Fatalf("with MaxCount 3 kept %d: %v", len(d), deadIDs(d))
		}
		time.Sleep(31 * time.Minute)
		d, _ = m.Dead(t.Context(), "a", queue.Page{})
		if len(d) != 2 || d[0].Job.ID != young[1] || d[1].Job.ID != young[0] {
			t.Fatalf("after an hour kept %v, want the two younger ones", deadIDs(d))
		}
		if s := memStats(t, m, "a"); s.Dead != 2 {
			t.Fatalf("Stats.Dead = %d, want 2", s.Dead)
		}
	})
}

func deadIDs(d []queue.DeadJob) []string {
	var out []string
	for _, j := range d {
		out = append(out, j.Job.ID)
	}
	return out
}

// The zero Retention keeps dead letters 14 days; a negative one forever.
func TestMemoryRetentionDefaults(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		def := memNew(t, queue.MemoryOptions{})
		forever := memNew(t, queue.MemoryOptions{Retention: queue.Retention{MaxAge: -1, MaxCount: -1}})
		for _, m := range []*queue.Memory{def, forever} {
			memEnqueue(t, m, memJobs("a", 1)...)
			memSettle(t, m, queue.Dead, memFetch(t, m, "a", 1, time.Minute)...)
		}
		time.Sleep(14*24*time.Hour - time.Second)
		if memStats(t, def, "a").Dead != 1 {
			t.Fatal("the default retention dropped a dead letter before 14 days")
		}
		time.Sleep(2 * time.Second)
		if memStats(t, def, "a").Dead != 0 {
			t.Fatal("the default retention kept a dead letter past 14 days")
		}
		if memStats(t, forever, "a").Dead != 1 {
			t.Fatal("a negative retention dropped a dead letter")
		}
	})
}

// Now drives every time of a Memory: a job delayed on an injected clock is
// ready when that clock says so, whatever the real time.
func TestMemoryNowInjected(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	m := memNew(t, queue.MemoryOptions{Now: func() time.Time { return now }})
	j := memJobs("a", 1)[0]
	j.RunAt = now.Add(time.Hour)
	memEnqueue(t, m, j)
	if js := memFetch(t, m, "a", 1, time.Minute); len(js) != 0 {
		t.Fatal("fetched before RunAt on the injected clock")
	}
	now = now.Add(time.Hour)
	js := memFetch(t, m, "a", 1, time.Minute)
	if len(js) != 1 {
		t.Fatal("not ready at RunAt on the injected clock")
	}
	now = now.Add(time.Minute) // the lease runs out on the injected clock
	ok, _ := m.Extend(t.Context(), js, time.Minute)
	if ok[0] {
		t.Fatal("Extend kept a lease that ran out on the injected clock")
	}
	memSettle(t, m, queue.Dead, memFetch(t, m, "a", 1, time.Minute)...)
	d, _ := m.Dead(t.Context(), "a", queue.Page{})
	if len(d) != 1 || !d[0].DiedAt.Equal(now) {
		t.Fatalf("DiedAt %v, want the injected now %v", d[0].DiedAt, now)
	}
}

// Jobs of one Enqueue spanning queues are stored all or none.
func TestMemoryBatchAcrossQueuesAllOrNone(t *testing.T) {
	m := memNew(t, queue.MemoryOptions{})
	bad := append(memJobs("a", 2), memJobs("b", 1)...)
	bad[2].MaxAttempts = 0
	if _, err := m.Enqueue(t.Context(), bad); err == nil {
		t.Fatal("a batch with an invalid job was accepted")
	}
	if memStats(t, m, "a").Ready != 0 {
		t.Fatal("a refused batch stored jobs")
	}
	js := append(memJobs("a", 2), memJobs("b", 1)...)
	js = append(js, memJobs("", 1)...)
	res := memEnqueue(t, m, js...)
	for _, q := range []string{"a", "b", "default"} {
		if memStats(t, m, q).Ready == 0 {
			t.Fatalf("queue %s got nothing", q)
		}
	}
	seen := map[string]bool{}
	for _, r := range res {
		if seen[r.ID] {
			t.Fatalf("ID %s twice", r.ID)
		}
		seen[r.ID] = true
	}
}

// Jobs run again (retry, snooze, release, lease expiry) are stored afresh:
// a Job a Fetch handed out is never modified afterwards.
func TestMemoryFetchedJobNeverModified(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{})
		memEnqueue(t, m, memJobs("a", 1)...)
		for _, kind := range []queue.OutcomeKind{queue.Retry, queue.Snooze, queue.Release, 0} {
			js := memFetch(t, m, "a", 1, time.Minute)
			before := *js[0]
			if kind == 0 {
				time.Sleep(2 * time.Minute) // the lease runs out
			} else {
				memSettle(t, m, kind, js...)
			}
			again := memFetch(t, m, "a", 1, time.Minute)
			if len(again) != 1 || again[0] == js[0] {
				t.Fatalf("after %v: the refetched job is the same *Job", kind)
			}
			if fmt.Sprint(*js[0]) != fmt.Sprint(before) {
				t.Fatalf("after %v the Job handed out earlier changed:\n%+v\n%+v", kind, before, *js[0])
			}
			memSettle(t, m, queue.Release, again...)
		}
	})
}

// Cancel of a job in the middle of a long ready list keeps the order of the
// rest (the FIFO's holes are skipped and compacted).
func TestMemoryCancelManyKeepsOrder(t *testing.T) {
	m := memNew(t, queue.MemoryOptions{})
	res := memEnqueue(t, m, memJobs("a", 1000)...)
	for i := 0; i < 1000; i += 3 {
		if err := m.Cancel(t.Context(), "a", res[i].ID); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		js := memFetch(t, m, "a", 7, time.Minute)
		if len(js) == 0 {
			break
		}
		for _, j := range js {
			got = append(got, j.ID)
		}
	}
	var want []string
	for i, r := range res {
		if i%3 != 0 {
			want = append(want, r.ID)
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("fetched %d jobs out of enqueue order after cancels (want %d)", len(got), len(want))
	}
}
