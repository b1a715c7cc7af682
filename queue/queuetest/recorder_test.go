package queuetest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

// signup is the producer under test: it enqueues a welcome email.
func signup(c *queue.Client, t *testing.T, to string) {
	t.Helper()
	_, err := c.Enqueue(t.Context(), sendEmail{To: to}, queue.EnqueueOptions{Queue: "email",
		UniqueKey: "welcome:" + to, Meta: map[string]string{"tenant": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
}

func newRecorder(t *testing.T) (*queuetest.Recorder, *queue.Client) {
	t.Helper()
	rec, err := queuetest.NewRecorder(queue.MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := queue.NewClient(rec, queue.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rec, c
}

// The recorder sees what a producer enqueued, decodes it, and skips
// duplicates of a held unique key.
func TestRecorderAssertions(t *testing.T) {
	rec, c := newRecorder(t)
	signup(c, t, "a@example.com")
	signup(c, t, "b@example.com")
	signup(c, t, "a@example.com") // a duplicate: not stored, not recorded
	got := queuetest.RequireEnqueued(t, rec, "send-email", queuetest.Match{Queue: "email", Count: 2,
		Meta: map[string]string{"tenant": "t1"}})
	if got[0].ID == "" || got[0].UniqueKey != "welcome:a@example.com" {
		t.Fatalf("recorded %+v", got[0])
	}
	args := queuetest.Enqueued[sendEmail](t, rec)
	if len(args) != 2 || args[0].To != "a@example.com" || args[1].To != "b@example.com" {
		t.Fatalf("Enqueued = %+v", args)
	}
	queuetest.RequireNotEnqueued(t, rec, "other")
	// The recorder is a working backend: the jobs are there to fetch.
	if s, err := rec.Stats(t.Context(), "email"); err != nil || s.Ready != 2 {
		t.Fatalf("Stats = %+v, %v; want 2 ready", s, err)
	}
	rec.Reset()
	if n := len(rec.Jobs()); n != 0 {
		t.Fatalf("after Reset %d jobs recorded", n)
	}
}

// fatalT records a Fatalf instead of failing the real test.
type fatalT struct {
	testing.TB
	msg string
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatalf(format string, args ...any) {
	f.msg = strings.TrimSpace(fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// failure runs f with a fatalT and returns what it failed with.
func failure(t *testing.T, f func(tb testing.TB)) string {
	ft := &fatalT{TB: t}
	var wg sync.WaitGroup
	wg.Go(func() { f(ft) })
	wg.Wait()
	return ft.msg
}

// The assertions fail with a message naming what was and was not enqueued.
func TestRecorderAssertionsFail(t *testing.T) {
	rec, c := newRecorder(t)
	signup(c, t, "a@example.com")
	for _, tc := range []struct {
		name string
		f    func(tb testing.TB)
		want string
	}{
		{"missing kind", func(tb testing.TB) { queuetest.RequireEnqueued(tb, rec, "charge", queuetest.Match{}) },
			`no job of kind "charge"`},
		{"wrong queue", func(tb testing.TB) {
			queuetest.RequireEnqueued(tb, rec, "send-email", queuetest.Match{Queue: "default"})
		}, `1 × "send-email"`},
		{"wrong count", func(tb testing.TB) {
			queuetest.RequireEnqueued(tb, rec, "send-email", queuetest.Match{Count: 2})
		}, "1 jobs of kind"},
		{"not enqueued", func(tb testing.TB) { queuetest.RequireNotEnqueued(tb, rec, "send-email") },
			`a job of kind "send-email" was enqueued`},
	} {
		if msg := failure(t, tc.f); !strings.Contains(msg, tc.want) {
			t.Errorf("%s: failed with %q, want it to contain %q", tc.name, msg, tc.want)
		}
	}
}

// A Clock drives a Memory's delays: a delayed job is ready once the clock
// passes its RunAt, and not before.
func TestClockDrivesMemory(t *testing.T) {
	var clock queuetest.Clock
	if !clock.Now().Equal(queuetest.Epoch) {
		t.Fatalf("a zero Clock reads %v, want Epoch", clock.Now())
	}
	rec, err := queuetest.NewRecorder(queue.MemoryOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	c, err := queue.NewClient(rec, queue.ClientOptions{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Enqueue(t.Context(), sendEmail{}, queue.EnqueueOptions{Delay: time.Hour}); err != nil {
		t.Fatal(err)
	}
	req := queue.FetchRequest{Queue: "default", Max: 1, Lease: time.Minute}
	clock.Advance(59 * time.Minute)
	if js, _ := rec.Fetch(t.Context(), req); len(js) != 0 {
		t.Fatal("fetched a job delayed an hour after 59 minutes")
	}
	clock.Advance(time.Minute)
	if js, _ := rec.Fetch(t.Context(), req); len(js) != 1 {
		t.Fatal("the job delayed an hour is not ready after an hour")
	}
	clock.Set(time.Time{})
	if !clock.Now().Equal(queuetest.Epoch) {
		t.Fatalf("Set(zero) reads %v, want Epoch", clock.Now())
	}
}
