package queue

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

type badJSON struct{ C chan int }

func (badJSON) Kind() string { return "bad" }

type panicKind struct{}

func (*panicKind) Kind() string { panic("no kind") }

type longKind struct{}

func (longKind) Kind() string { return strings.Repeat("k", MaxKindLen+1) }

type emptyKind struct{}

func (emptyKind) Kind() string { return "" }

type big struct{ B string }

func (big) Kind() string { return "big" }

// Every bad enqueue is an error at enqueue (never a panic, never a stored
// job), naming the field and value, with the package prefix once.
func TestEnqueueRejectsBadInput(t *testing.T) {
	f := newFake()
	c, err := NewClient(f, ClientOptions{MaxArgsSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cases := []struct {
		name string
		args Kinded
		o    EnqueueOptions
		is   error
		says string
	}{
		{"priority -1", argsA{}, EnqueueOptions{Priority: -1}, ErrInvalidOptions, "Priority -1"},
		{"priority 4", argsA{}, EnqueueOptions{Priority: 4}, ErrInvalidOptions, "Priority 4"},
		{"max attempts", argsA{}, EnqueueOptions{MaxAttempts: -1}, ErrInvalidOptions, "MaxAttempts -1"},
		{"timeout", argsA{}, EnqueueOptions{Timeout: -time.Second}, ErrInvalidOptions, "Timeout -1s"},
		{"delay", argsA{}, EnqueueOptions{Delay: -time.Second}, ErrInvalidOptions, "Delay -1s"},
		{"delay and run at", argsA{}, EnqueueOptions{Delay: time.Second, RunAt: time.Now()}, ErrInvalidOptions, "not both"},
		{"negative delay with run at", argsA{}, EnqueueOptions{Delay: -time.Second, RunAt: time.Now()}, ErrInvalidOptions, "Delay -1s"},
		{"unique for without key", argsA{}, EnqueueOptions{UniqueFor: time.Hour}, ErrInvalidOptions, "without a UniqueKey"},
		{"unique for negative", argsA{}, EnqueueOptions{UniqueKey: "k", UniqueFor: -1}, ErrInvalidOptions, "UniqueFor -1ns"},
		{"queue too long", argsA{}, EnqueueOptions{Queue: strings.Repeat("q", MaxQueueLen+1)}, ErrInvalidOptions, "Queue"},
		{"nil args", nil, EnqueueOptions{}, ErrInvalidOptions, "Args: nil"},
		{"empty kind", emptyKind{}, EnqueueOptions{}, ErrInvalidOptions, "kind: empty"},
		{"kind too long", longKind{}, EnqueueOptions{}, ErrInvalidOptions, "longer than"},
		{"kind panics", (*panicKind)(nil), EnqueueOptions{}, ErrInvalidOptions, "panicked"},
		{"too large", big{B: strings.Repeat("x", 200)}, EnqueueOptions{}, ErrTooLarge, "limit is 100"},
		{"unencodable", badJSON{C: make(chan int)}, EnqueueOptions{}, nil, "encode queue.badJSON as JSON"},
	}
	for _, tc := range cases {
		_, err := c.Enqueue(ctx, tc.args, tc.o)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %q, want it to say %q", tc.name, err, tc.says)
		}
		assertPrefixOnce(t, tc.name, err)
	}
	if f.pending() != 0 {
		t.Fatalf("%d jobs stored from bad input", f.pending())
	}
	// A bad request in a batch fails the batch before anything is stored,
	// naming its index.
	_, err = c.EnqueueMany(ctx, []Request{{Args: argsA{}}, {Args: argsA{}, Options: EnqueueOptions{Priority: 9}}})
	if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), "request 1: Priority 9") {
		t.Fatalf("EnqueueMany: %v", err)
	}
	assertPrefixOnce(t, "EnqueueMany", err)
	if f.pending() != 0 {
		t.Fatalf("%d jobs stored from a bad batch", f.pending())
	}
}

func TestBadConfigurationErrors(t *testing.T) {
	f := newFake()
	h := &Handlers{}
	cases := map[string]func() error{
		"client nil backend":  func() error { _, err := NewClient(nil, ClientOptions{}); return err },
		"client MaxArgsSize":  func() error { _, err := NewClient(f, ClientOptions{MaxArgsSize: -1}); return err },
		"client Defaults":     func() error { _, err := NewClient(f, ClientOptions{Defaults: EnqueueOptions{Priority: 7}}); return err },
		"worker nil backend":  func() error { _, err := NewWorker(nil, h, WorkerOptions{}); return err },
		"worker nil handlers": func() error { _, err := NewWorker(f, nil, WorkerOptions{}); return err },
		"Lease -1":            func() error { _, err := NewWorker(f, h, WorkerOptions{Lease: -1}); return err },
		"Lease 1ms":           func() error { _, err := NewWorker(f, h, WorkerOptions{Lease: time.Millisecond}); return err },
		"PollInterval -1":     func() error { _, err := NewWorker(f, h, WorkerOptions{PollInterval: -1}); return err },
		"ShutdownTimeout -1":  func() error { _, err := NewWorker(f, h, WorkerOptions{ShutdownTimeout: -1}); return err },
		"Concurrency -1":      func() error { return qerr(f, h, QueueOptions{Concurrency: -1}) },
		"Limit -1":            func() error { return qerr(f, h, QueueOptions{Limit: -1}) },
		"FetchBatch -1":       func() error { return qerr(f, h, QueueOptions{FetchBatch: -1}) },
		"Rate.N -1":           func() error { return qerr(f, h, QueueOptions{Rate: Rate{N: -1, Per: time.Second}}) },
		"Rate.Per 0":          func() error { return qerr(f, h, QueueOptions{Rate: Rate{N: 1}}) },
		"Rate.Per -1":         func() error { return qerr(f, h, QueueOptions{Rate: Rate{N: 1, Per: -1}}) },
		"Rate.Burst -1":       func() error { return qerr(f, h, QueueOptions{Rate: Rate{N: 1, Per: time.Second, Burst: -1}}) },
		"Rate without N":      func() error { return qerr(f, h, QueueOptions{Rate: Rate{Per: time.Second}}) },
		"empty queue name": func() error {
			_, err := NewWorker(f, h, WorkerOptions{Queues: map[string]QueueOptions{"": {}}})
			return err
		},
		"periodic no name":     func() error { return perr(f, h, Periodic{Schedule: Every(time.Minute), Args: tick{}}) },
		"periodic no schedule": func() error { return perr(f, h, Periodic{Name: "p", Args: tick{}}) },
		"periodic no args":     func() error { return perr(f, h, Periodic{Name: "p", Schedule: Every(time.Minute)}) },
		"periodic Every(0)":    func() error { return perr(f, h, Periodic{Name: "p", Schedule: Every(0), Args: tick{}}) },
		"periodic unique key": func() error {
			return perr(f, h, Periodic{Name: "p", Schedule: Every(time.Minute), Args: tick{}, Options: EnqueueOptions{UniqueKey: "x"}})
		},
		"periodic delay": func() error {
			return perr(f, h, Periodic{Name: "p", Schedule: Every(time.Minute), Args: tick{}, Options: EnqueueOptions{Delay: 1}})
		},
		"periodic bad priority": func() error {
			return perr(f, h, Periodic{Name: "p", Schedule: Every(time.Minute), Args: tick{}, Options: EnqueueOptions{Priority: 5}})
		},
		"periodic twice": func() error {
			p := Periodic{Name: "p", Schedule: Every(time.Minute), Args: tick{}}
			_, err := NewWorker(f, h, WorkerOptions{Periodic: []Periodic{p, p}})
			return err
		},
		"Handle nil fn": func() error { return Handle[argsA](h, nil, HandlerOptions{}) },
		"Handle nil h": func() error {
			return Handle(nil, func(context.Context, *Typed[argsA]) error { return nil }, HandlerOptions{})
		},
		"Handle Timeout -1": func() error {
			return Handle(&Handlers{}, func(context.Context, *Typed[argsA]) error { return nil }, HandlerOptions{Timeout: -1})
		},
		"Handle pointer kind panics": func() error {
			return Handle(&Handlers{}, func(context.Context, *Typed[*panicKind]) error { return nil }, HandlerOptions{})
		},
		"Handle empty kind": func() error {
			return Handle(&Handlers{}, func(context.Context, *Typed[emptyKind]) error { return nil }, HandlerOptions{})
		},
		"Handle twice": func() error {
			h := &Handlers{}
			fn := func(context.Context, *Typed[argsA]) error { return nil }
			_ = Handle(h, fn, HandlerOptions{})
			return Handle(h, fn, HandlerOptions{})
		},
		"Dead Page.Limit -1": func() error { _, err := mustClient(t, f).Dead(context.Background(), "", Page{Limit: -1}); return err },
	}
	for name, fn := range cases {
		err := fn()
		if !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
			continue
		}
		assertPrefixOnce(t, name, err)
	}
}

func qerr(b Backend, h *Handlers, q QueueOptions) error {
	_, err := NewWorker(b, h, WorkerOptions{Queues: map[string]QueueOptions{"q": q}})
	return err
}

func perr(b Backend, h *Handlers, p Periodic) error {
	_, err := NewWorker(b, h, WorkerOptions{Periodic: []Periodic{p}})
	return err
}

// Enqueue fills the job from the options, the Client's Defaults and the
// package defaults.
func TestEnqueueBuildsTheJob(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := newFake()
	c, _ := NewClient(f, ClientOptions{Now: func() time.Time { return now }, Defaults: EnqueueOptions{Queue: "mail", Priority: 2}})
	j, err := c.NewJob(context.Background(), argsA{N: 3}, EnqueueOptions{Delay: time.Minute, UniqueKey: "u", Meta: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Job{Kind: "a", Queue: "mail", Args: []byte(`{"N":3}`), Priority: 2, MaxAttempts: 25, Timeout: time.Minute,
		RunAt: now.Add(time.Minute), EnqueuedAt: now, UniqueKey: "u", UniqueUntil: now.Add(24 * time.Hour)}
	got := *j
	if string(got.Args) != string(want.Args) || got.Meta["a"] != "b" {
		t.Fatalf("args %s meta %v", got.Args, got.Meta)
	}
	got.Args, want.Args, got.Meta = nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("job\n%+v, want\n%+v", got, want)
	}
	j, _ = c.NewJob(context.Background(), argsA{}, EnqueueOptions{Queue: "q", Priority: 1, MaxAttempts: 1, Timeout: time.Second, RunAt: now.Add(time.Hour), UniqueKey: "k", UniqueFor: time.Hour})
	if j.Queue != "q" || j.Priority != 1 || j.MaxAttempts != 1 || j.Timeout != time.Second || !j.RunAt.Equal(now.Add(time.Hour)) || !j.UniqueUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("explicit options not kept: %+v", j)
	}
	if _, err := c.Enqueue(context.Background(), argsA{}, EnqueueOptions{Queue: "default"}); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultBackoff(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second}, {12, 2048 * time.Second}, {13, time.Hour}, {100, time.Hour}, {math.MaxInt, time.Hour}} {
		if got := DefaultBackoff(c.n); got != c.want {
			t.Errorf("DefaultBackoff(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	for _, r := range []uint64{0, 1 << 63, math.MaxUint64} {
		if j := jitter(10*time.Second, r); j < 8*time.Second || j > 12*time.Second {
			t.Errorf("jitter(10s, %d) = %v", r, j)
		}
	}
}

// A user Backoff that panics or returns a negative delay does not break
// the worker.
func TestBadBackoffHookDegrades(t *testing.T) {
	hd := &handler{backoff: func(int) time.Duration { panic("x") }}
	if d := hd.retryDelay(1, func() uint64 { return 0 }); d != 800*time.Millisecond {
		t.Fatalf("panicking Backoff: %v, want 1s - 20%%", d)
	}
	hd.backoff = func(int) time.Duration { return -time.Hour }
	if d := hd.retryDelay(1, func() uint64 { return 0 }); d != 0 {
		t.Fatalf("negative Backoff: %v, want 0", d)
	}
}
