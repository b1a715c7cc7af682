package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

func TestSuccessIsSettledDone(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		var got []int
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error { got = append(got, j.Args.N); return nil }, HandlerOptions{})
		c := mustClient(t, f)
		enqueue(t, c, argsA{N: 7}, EnqueueOptions{})
		r := start(t, f, h, WorkerOptions{Queues: map[string]QueueOptions{"default": {Concurrency: 1}}})
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if len(got) != 1 || got[0] != 7 {
			t.Fatalf("handler saw %v, want [7]", got)
		}
		oc := f.outcomes()
		if len(oc) != 1 || oc[0].Kind != Done {
			t.Fatalf("outcomes %+v, want one Done", oc)
		}
		if f.pending() != 0 {
			t.Fatalf("%d jobs left", f.pending())
		}
		st := r.w.Stats()
		if st.Processed != 1 || st.Succeeded != 1 || st.Queues["default"].Succeeded != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// A failing job is retried after 1s, 2s, 4s (±20%), then dead after
// MaxAttempts with the last error as the reason.
func TestRetriesWithBackoffThenDead(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		rec := &recorder{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			rec.add("run")
			return errors.New("boom " + time.Now().String()[:4])
		}, HandlerOptions{})
		c := mustClient(t, f)
		start0 := time.Now()
		enqueue(t, c, argsA{}, EnqueueOptions{MaxAttempts: 4})
		start(t, f, h, WorkerOptions{PollInterval: 50 * time.Millisecond})
		time.Sleep(20 * time.Second)
		synctest.Wait()
		_, times := rec.get()
		if len(times) != 4 {
			t.Fatalf("%d runs, want 4", len(times))
		}
		prev := start0
		for i, at := range times[1:] {
			gap := at.Sub(times[i])
			base := time.Second << i
			lo, hi := base*8/10, base*12/10+60*time.Millisecond // +poll
			if gap < lo || gap > hi {
				t.Errorf("retry %d after %v, want %v…%v", i+1, gap, lo, hi)
			}
			prev = at
		}
		_ = prev
		d := f.deadJobs()
		if len(d) != 1 || !strings.HasPrefix(d[0].Reason, "boom") {
			t.Fatalf("dead %+v, want one with reason boom…", d)
		}
		oc := f.outcomes()
		for i, o := range oc[:3] {
			if o.Kind != Retry || !strings.HasPrefix(o.Err, "boom") {
				t.Errorf("outcome %d: %+v, want Retry boom", i, o)
			}
		}
	})
}

func TestSnoozeDoesNotUseAnAttempt(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		var mu sync.Mutex
		var attempts []int
		get := func() []int { mu.Lock(); defer mu.Unlock(); return append([]int(nil), attempts...) }
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, j.Attempt)
			if len(attempts) < 3 {
				return SnoozeFor(time.Minute)
			}
			return nil
		}, HandlerOptions{})
		enqueue(t, mustClient(t, f), argsA{}, EnqueueOptions{MaxAttempts: 1})
		start(t, f, h, WorkerOptions{PollInterval: 100 * time.Millisecond})
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if a := get(); len(a) != 1 {
			t.Fatalf("ran %d times before the snooze ended, want 1", len(a))
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		if attempts := get(); len(attempts) != 3 || attempts[0] != 1 || attempts[1] != 1 || attempts[2] != 1 {
			t.Fatalf("attempts %v, want [1 1 1]", attempts)
		}
		if len(f.deadJobs()) != 0 || f.pending() != 0 {
			t.Fatalf("dead %v pending %d", f.deadJobs(), f.pending())
		}
	})
}

func TestCancelDeadLettersWithReason(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		runs := 0
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			runs++
			return Cancel(errors.New("customer gone"))
		}, HandlerOptions{})
		enqueue(t, mustClient(t, f), argsA{}, EnqueueOptions{})
		start(t, f, h, WorkerOptions{})
		time.Sleep(time.Minute)
		synctest.Wait()
		d := f.deadJobs()
		if runs != 1 || len(d) != 1 || d[0].Reason != "cancelled: customer gone" {
			t.Fatalf("runs %d, dead %+v", runs, d)
		}
	})
}

func TestUnknownKindAndMalformedArgsAreDead(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error { return nil }, HandlerOptions{})
		c := mustClient(t, f)
		enqueue(t, c, argsB{S: "x"}, EnqueueOptions{})
		// A hand-made job whose args do not decode into argsA.
		if _, err := f.Enqueue(context.Background(), []*Job{{Kind: "a", Queue: "default", Args: []byte(`{"N":"not a number"}`), MaxAttempts: 3, Timeout: time.Minute, RunAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		r := start(t, f, h, WorkerOptions{})
		time.Sleep(time.Second)
		synctest.Wait()
		d := f.deadJobs()
		if len(d) != 2 {
			t.Fatalf("dead %+v, want 2", d)
		}
		reasons := d[0].Reason + " | " + d[1].Reason
		if !strings.Contains(reasons, `unknown kind "b"`) || !strings.Contains(reasons, ErrUnknownKind.Error()) {
			t.Errorf("reasons %q: want unknown kind \"b\" naming %q", reasons, ErrUnknownKind)
		}
		if !strings.Contains(reasons, "malformed args: ") {
			t.Errorf("reasons %q: want malformed args", reasons)
		}
		if st := r.w.Stats(); st.Dead != 2 {
			t.Errorf("stats %+v, want Dead 2", st)
		}
	})
}

func TestPanicIsAFailureWithStack(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		runs := 0
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			runs++
			if runs == 1 {
				panic("kaboom")
			}
			return nil
		}, HandlerOptions{})
		enqueue(t, mustClient(t, f), argsA{}, EnqueueOptions{})
		start(t, f, h, WorkerOptions{PollInterval: 100 * time.Millisecond})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		oc := f.outcomes()
		if len(oc) != 2 || oc[0].Kind != Retry || oc[1].Kind != Done {
			t.Fatalf("outcomes %+v, want Retry then Done", oc)
		}
		msg := oc[0].Err
		if !strings.Contains(msg, ErrPanic.Error()) || !strings.Contains(msg, "kaboom") || !strings.Contains(msg, "goroutine ") {
			t.Fatalf("panic outcome %q: want ErrPanic, the value and a stack", msg)
		}
	})
}

func TestPanicErrorWrapsErrPanic(t *testing.T) {
	h := &Handlers{}
	mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error { panic(42) }, HandlerOptions{})
	err := h.get("a").call(context.Background(), &Job{Kind: "a", Args: []byte(`{}`)}, nil)
	if !errors.Is(err, ErrPanic) || !strings.Contains(err.Error(), "42") {
		t.Fatalf("err %v: want ErrPanic with the value", err)
	}
}
