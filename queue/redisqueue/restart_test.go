package redisqueue_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// countJob is a job whose handler marks job N as run.
type countJob struct{ N int }

func (countJob) Kind() string { return "count" }

// startWorker runs a Worker with a countJob handler on b until the test ends,
// and returns the set of N that ran.
func runCountWorker(t *testing.T, b queue.Backend, lease time.Duration) *sync.Map {
	t.Helper()
	var ran sync.Map
	var h queue.Handlers
	if err := queue.Handle(&h, func(ctx context.Context, j *queue.Typed[countJob]) error {
		ran.Store(j.Args.N, true)
		return nil
	}, queue.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := queue.NewWorker(b, &h, queue.WorkerOptions{Queues: map[string]queue.QueueOptions{"q": {Concurrency: 32}},
		Lease: lease, PollInterval: 50 * time.Millisecond, ShutdownTimeout: time.Second, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &ran
}

// produce enqueues countJobs one batch of 10 at a time until stop is closed,
// and returns the N of every job whose enqueue was acknowledged (the others
// failed: the server was down).
func produce(t *testing.T, b queue.Backend, stop <-chan struct{}) (acked func() []int, failed *atomic.Int64) {
	qc, err := queue.NewClient(b, queue.ClientOptions{Defaults: queue.EnqueueOptions{Queue: "q"}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ok []int
	failed = new(atomic.Int64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; ; n += 10 {
			select {
			case <-stop:
				return
			default:
			}
			reqs := make([]queue.Request, 10)
			for i := range reqs {
				reqs[i] = queue.Request{Args: countJob{N: n + i}}
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err := qc.EnqueueMany(ctx, reqs)
			cancel()
			if err != nil {
				failed.Add(1)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			mu.Lock()
			for i := range reqs {
				ok = append(ok, n+i)
			}
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { <-done })
	return func() []int {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return ok
	}, failed
}

// awaitRan waits (bounded) until every N in want ran, and returns those that
// did not.
func awaitRan(ran *sync.Map, want []int, limit time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		var missing []int
		for _, n := range want {
			if _, ok := ran.Load(n); !ok {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A Redis that crashes (SIGKILL) and restarts under load, with the AOF
// fsynced on every write (appendfsync always), loses no acknowledged enqueue:
// every job whose Enqueue returned nil runs, and the worker recovers by
// itself. (Without persistence a restart loses everything the server held:
// waiting, scheduled and leased jobs, dead letters and unique keys alike.)
func TestRedisRestartUnderLoadLosesNothingAcknowledged(t *testing.T) {
	srv := testenv.StartRedisWith(t, "--appendonly", "yes", "--appendfsync", "always")
	newBackend := func() *redisqueue.Backend {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1})
		t.Cleanup(func() { _ = c.Close() })
		b, err := redisqueue.New(c, redisqueue.Options{Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ran := runCountWorker(t, newBackend(), 500*time.Millisecond)
	stop := make(chan struct{})
	acked, failed := produce(t, newBackend(), stop)
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		srv.Stop()
		time.Sleep(200 * time.Millisecond)
		srv.Start()
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	want := acked()
	if missing := awaitRan(ran, want, 30*time.Second); len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged jobs never ran after the restarts (first %v)", len(missing), len(want), missing[:min(10, len(missing))])
	}
	t.Logf("%d acknowledged jobs all ran; %d enqueue calls failed while the server was down", len(want), failed.Load())
}

// With the server down every call fails with an error naming the package and
// the operation (no panic, no hang beyond ctx), and works again once the
// server is back.
func TestServerDownClearErrorsThenRecovers(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	b, err := redisqueue.New(c, redisqueue.Options{})
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, b, job("before"))
	got := fetch(t, b, 1, time.Minute)
	srv.Stop()
	var ctx context.Context
	calls := map[string]func() error{
		"enqueue": func() error { _, err := b.Enqueue(ctx, []*queue.Job{job("x")}); return err },
		"fetch": func() error {
			_, err := b.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: 1, Lease: time.Second})
			return err
		},
		"extend":     func() error { _, err := b.Extend(ctx, got, time.Minute); return err },
		"settle":     func() error { _, err := b.Settle(ctx, []queue.Outcome{{Job: got[0], Kind: queue.Done}}); return err },
		"cancel":     func() error { return b.Cancel(ctx, "q", "x") },
		"pause":      func() error { return b.Pause(ctx, "q", true) },
		"stats":      func() error { _, err := b.Stats(ctx, "q"); return err },
		"wait":       func() error { return b.Wait(ctx, "q", time.Second) },
		"dead":       func() error { _, err := b.Dead(ctx, "q", queue.Page{}); return err },
		"retry dead": func() error { _, err := b.RetryDead(ctx, "q", nil); return err },
		"purge dead": func() error { _, err := b.PurgeDead(ctx, "q", nil); return err },
	}
	for name, call := range calls {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
		err := call()
		cancel()
		if err == nil || !strings.HasPrefix(err.Error(), "redisqueue: "+name) || strings.Count(err.Error(), "redisqueue:") != 1 {
			t.Errorf("%s with the server down: %v; want an error starting %q", name, err, "redisqueue: "+name)
		}
		if errors.Is(err, queue.ErrLeaseLost) || errors.Is(err, queue.ErrNotFound) {
			t.Errorf("%s: an outage reported as %v", name, err)
		}
	}
	srv.Start() // no persistence: the server comes back empty
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := b.Enqueue(context.Background(), []*queue.Job{job("after")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("enqueue after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := fetch(t, b, 10, time.Minute); len(got) != 1 || got[0].Kind != "after" {
		t.Fatalf("after the restart fetched %+v", got)
	}
	if errs := settle(t, b, queue.Outcome{Job: got[0], Kind: queue.Done}); !errors.Is(errs[0], queue.ErrLeaseLost) {
		t.Fatalf("settling a lease the restart forgot: %v, want ErrLeaseLost", errs[0])
	}
}

// A cancelled or expired ctx is returned as such, not as a Redis failure.
func TestContextEndsCalls(t *testing.T) {
	b := newBackend(t, redisqueue.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Enqueue(ctx, []*queue.Job{job("x")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Enqueue: %v", err)
	}
	if _, err := b.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: 1, Lease: time.Second}); !errors.Is(err, context.Canceled) {
		t.Errorf("Fetch: %v", err)
	}
	if err := b.Wait(ctx, "q", time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait: %v", err)
	}
	// A Wait blocked on an idle queue ends soon after its ctx does.
	ctx, cancel = context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- b.Wait(ctx, "idle-"+strconv.Itoa(int(time.Now().UnixNano())), time.Hour) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-ch:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not end after its ctx was cancelled")
	}
}
