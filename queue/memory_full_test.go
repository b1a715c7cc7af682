package queue_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
)

func memNew(t *testing.T, o queue.MemoryOptions) *queue.Memory {
	t.Helper()
	m, err := queue.NewMemory(o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func memJobs(q string, n int) []*queue.Job {
	js := make([]*queue.Job, n)
	for i := range js {
		js[i] = &queue.Job{Kind: "k", Queue: q, Args: []byte(`{}`), MaxAttempts: 3, Timeout: time.Minute}
	}
	return js
}

func memEnqueue(t *testing.T, m *queue.Memory, js ...*queue.Job) []queue.EnqueueResult {
	t.Helper()
	res, err := m.Enqueue(t.Context(), js)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func memFetch(t *testing.T, m *queue.Memory, q string, n int, lease time.Duration) []*queue.Job {
	t.Helper()
	js, err := m.Fetch(t.Context(), queue.FetchRequest{Queue: q, Max: n, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func memSettle(t *testing.T, m *queue.Memory, kind queue.OutcomeKind, js ...*queue.Job) {
	t.Helper()
	os := make([]queue.Outcome, len(js))
	for i, j := range js {
		os[i] = queue.Outcome{Job: j, Kind: kind, Err: "e"}
	}
	errs, err := m.Settle(t.Context(), os)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func memStats(t *testing.T, m *queue.Memory, q string) queue.BackendStats {
	t.Helper()
	s, err := m.Stats(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wantOnePrefix: the message starts with "queue: " and never repeats it.
func wantOnePrefix(t *testing.T, what string, err error) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, "queue: ") || strings.Count(msg, "queue: ") != 1 {
		t.Errorf("%s: %q: want the prefix \"queue: \" once, first", what, msg)
	}
}

// A full Memory with FullReject refuses a batch that does not fit, whole,
// with ErrQueueFull; jobs that leave make room; dead letters and duplicates
// take none.
func TestMemoryFullRejects(t *testing.T) {
	m := memNew(t, queue.MemoryOptions{MaxJobs: 5})
	memEnqueue(t, m, memJobs("a", 3)...)
	_, err := m.Enqueue(t.Context(), append(memJobs("a", 1), memJobs("b", 2)...))
	if !errors.Is(err, queue.ErrQueueFull) {
		t.Fatalf("a batch of 3 into 2 free slots: %v, want ErrQueueFull", err)
	}
	wantOnePrefix(t, "ErrQueueFull", err)
	if s := memStats(t, m, "b"); s.Ready != 0 {
		t.Fatalf("a refused batch stored %d jobs in queue b", s.Ready)
	}
	memEnqueue(t, m, memJobs("b", 2)...)
	// Full now. A job leaving (done, dead) makes room for one.
	js := memFetch(t, m, "a", 2, time.Minute)
	memSettle(t, m, queue.Done, js[0])
	memSettle(t, m, queue.Dead, js[1])
	memEnqueue(t, m, memJobs("a", 2)...)
	if _, err := m.Enqueue(t.Context(), memJobs("a", 1)); !errors.Is(err, queue.ErrQueueFull) {
		t.Fatalf("enqueue into a full Memory: %v, want ErrQueueFull", err)
	}
	if _, err := m.Enqueue(t.Context(), memJobs("a", 6)); !errors.Is(err, queue.ErrQueueFull) || !strings.Contains(err.Error(), "larger than MaxJobs") {
		t.Fatalf("a batch larger than MaxJobs: %v, want ErrQueueFull naming MaxJobs", err)
	}
	// RetryDead moves the dead letter back even past MaxJobs.
	if n, err := m.RetryDead(t.Context(), "a", nil); err != nil || n != 1 {
		t.Fatalf("RetryDead = %d, %v", n, err)
	}
	if s := memStats(t, m, "a"); s.Ready != 4 {
		t.Fatalf("queue a: %d ready, want 4", s.Ready)
	}
}

// Duplicates do not use room: the room reserved for them is given back.
func TestMemoryFullDuplicatesTakeNoRoom(t *testing.T) {
	m := memNew(t, queue.MemoryOptions{MaxJobs: 2})
	uniq := func() *queue.Job {
		j := memJobs("a", 1)[0]
		j.UniqueKey, j.UniqueUntil = "k", time.Now().Add(time.Hour)
		return j
	}
	memEnqueue(t, m, uniq())
	for range 10 {
		if res := memEnqueue(t, m, uniq()); !res[0].Duplicate {
			t.Fatal("want a duplicate")
		}
	}
	memEnqueue(t, m, memJobs("a", 1)...)
}

// With FullBlock, Enqueue waits for room and goes on once jobs leave; its
// ctx ends the wait and then nothing is stored.
func TestMemoryFullBlocks(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m := memNew(t, queue.MemoryOptions{MaxJobs: 2, Full: queue.FullBlock})
		memEnqueue(t, m, memJobs("a", 2)...)
		done := make(chan error, 1)
		go func() { _, err := m.Enqueue(t.Context(), memJobs("a", 2)); done <- err }()
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Enqueue into a full Memory returned %v, want it to block", err)
		default:
		}
		js := memFetch(t, m, "a", 1, time.Minute)
		memSettle(t, m, queue.Done, js...)
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("Enqueue of 2 with room for 1 returned %v, want it to block", err)
		default:
		}
		js = memFetch(t, m, "a", 1, time.Minute)
		memSettle(t, m, queue.Dead, js...)
		if err := <-done; err != nil {
			t.Fatalf("Enqueue after room was made: %v", err)
		}
		if s := memStats(t, m, "a"); s.Ready != 2 || s.Dead != 1 {
			t.Fatalf("Stats = %+v, want 2 ready (the blocked batch), 1 dead", s)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		if _, err := m.Enqueue(ctx, memJobs("a", 1)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("blocked Enqueue at its deadline: %v, want DeadlineExceeded", err)
		}
		if waited := time.Since(start); waited != time.Second {
			t.Fatalf("blocked Enqueue returned after %v, want its ctx's 1s", waited)
		}
		if s := memStats(t, m, "a"); s.Ready != 2 {
			t.Fatalf("a cancelled Enqueue stored jobs: %+v", s)
		}
	})
}

// Bad options are errors wrapping ErrInvalidOptions, naming the field, with
// the package prefix once.
func TestMemoryOptionsInvalid(t *testing.T) {
	for _, o := range []queue.MemoryOptions{{MaxJobs: -1}, {Full: 7}} {
		_, err := queue.NewMemory(o)
		if !errors.Is(err, queue.ErrInvalidOptions) {
			t.Fatalf("NewMemory(%+v): %v, want ErrInvalidOptions", o, err)
		}
		wantOnePrefix(t, "NewMemory", err)
	}
	for _, o := range []queue.MemoryOptions{{}, {MaxJobs: 1, Full: queue.FullBlock, Retention: queue.Retention{MaxAge: -1, MaxCount: -1}}} {
		if _, err := queue.NewMemory(o); err != nil {
			t.Fatalf("NewMemory(%+v): %v", o, err)
		}
	}
	if queue.FullBlock.String() != "FullBlock" || queue.FullPolicy(9).String() != "FullPolicy(9)" {
		t.Fatal("FullPolicy.String")
	}
}

// Every error a Memory returns carries the package prefix once.
func TestMemoryErrorsPrefixOnce(t *testing.T) {
	m := memNew(t, queue.MemoryOptions{MaxJobs: 1})
	ctx := t.Context()
	withID := memJobs("a", 1)[0]
	withID.ID = "x"
	_, e1 := m.Enqueue(ctx, []*queue.Job{nil})
	_, e2 := m.Enqueue(ctx, []*queue.Job{withID})
	_, e3 := m.Enqueue(ctx, memJobs("a", 2))
	_, e4 := m.Fetch(ctx, queue.FetchRequest{Queue: "a"})
	_, e5 := m.Dead(ctx, "a", queue.Page{After: "bogus"})
	e6 := m.Cancel(ctx, "a", "1")
	_, e7 := m.Extend(ctx, nil, 0)
	errs, _ := m.Settle(ctx, []queue.Outcome{{Kind: queue.Done}, {Job: withID, Kind: 99}})
	for i, err := range append([]error{e1, e2, e3, e4, e5, e6, e7}, errs...) {
		if err == nil {
			t.Fatalf("error %d: nil", i)
		}
		wantOnePrefix(t, "Memory", err)
	}
}
