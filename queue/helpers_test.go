package queue

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type argsA struct{ N int }

func (argsA) Kind() string { return "a" }

type argsB struct{ S string }

func (argsB) Kind() string { return "b" }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// running is a Worker started in the background.
type running struct {
	w      *Worker
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// start runs a Worker over b until stop (or the test's end).
func start(t *testing.T, b Backend, h *Handlers, opts WorkerOptions) *running {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	w, err := NewWorker(b, h, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{w: w, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- w.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func mustClient(t *testing.T, b Backend) *Client {
	t.Helper()
	c, err := NewClient(b, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustHandle[A Kinded](t *testing.T, h *Handlers, fn func(context.Context, *Typed[A]) error, o HandlerOptions) {
	t.Helper()
	if err := Handle(h, fn, o); err != nil {
		t.Fatal(err)
	}
}

func enqueue(t *testing.T, c *Client, args Kinded, o EnqueueOptions) string {
	t.Helper()
	r, err := c.Enqueue(context.Background(), args, o)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// recorder collects what handlers saw.
type recorder struct {
	mu    sync.Mutex
	seen  []string
	times []time.Time
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, s)
	r.times = append(r.times, time.Now())
}

func (r *recorder) get() ([]string, []time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...), append([]time.Time(nil), r.times...)
}

var prefixRE = regexp.MustCompile(`\bqueue: `)

// assertPrefixOnce fails unless err's message starts with "queue: " and
// never repeats it.
func assertPrefixOnce(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	if n := len(prefixRE.FindAllStringIndex(msg, -1)); n != 1 || !strings.HasPrefix(msg, "queue: ") {
		t.Errorf("%s: %q: want the prefix \"queue: \" once, at the start (found %d)", what, msg, n)
	}
}
