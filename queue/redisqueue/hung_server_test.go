package redisqueue_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

type hungArgs struct{ N int }

func (hungArgs) Kind() string { return "hung" }

// A redis-server frozen (SIGSTOP: connections open, no answer) under a
// running Worker, with go-redis's default client options (ContextTimeoutEnabled
// false): Run's shutdown still returns in bounded time, no run of a job
// overlaps another run of it whose ctx is still live, and once the server
// thaws every job runs (0 lost).
func TestFrozenServerUnderWorker(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr}) // the defaults a user has
	t.Cleanup(func() { _ = c.Close() })
	b, err := redisqueue.New(c, redisqueue.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	const lease = 3 * time.Second // default 30 s: scaled down to keep the test short
	cl, err := queue.NewClient(b, queue.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]queue.Request, n)
	for i := range reqs {
		reqs[i] = queue.Request{Args: hungArgs{i}}
	}
	if _, err := cl.EnqueueMany(ctxT(t), reqs); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	live := map[int]context.Context{} // job → ctx of the run in progress
	runs := map[int]int{}
	var overlaps []string
	started := make(chan struct{}, n*4)
	h := &queue.Handlers{}
	err = queue.Handle(h, func(ctx context.Context, j *queue.Typed[hungArgs]) error {
		mu.Lock()
		if prev, ok := live[j.Args.N]; ok && prev.Err() == nil {
			overlaps = append(overlaps, fmt.Sprintf("job %d attempt %d started while a run with a live ctx went on", j.Args.N, j.Attempt))
		}
		live[j.Args.N] = ctx
		runs[j.Args.N]++
		mu.Unlock()
		started <- struct{}{}
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
		mu.Lock()
		if live[j.Args.N] == ctx {
			delete(live, j.Args.N)
		}
		mu.Unlock()
		return ctx.Err()
	}, queue.HandlerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run := func(ctx context.Context) chan error {
		w, err := queue.NewWorker(b, h, queue.WorkerOptions{Lease: lease, Logger: quietLog})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- w.Run(ctx) }()
		return done
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := run(ctx1)
	for range 10 {
		<-started
	}
	srv.Freeze()
	thawed := false
	defer func() {
		if !thawed {
			srv.Thaw()
		}
	}()
	time.Sleep(lease / 2)
	// A second worker starts while the first holds leases: it must wait
	// for them (server frozen) and never overlap a live run.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	done2 := run(ctx2)
	cancel1()
	stopAt := time.Now()
	select {
	case err := <-done1:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(queue.DefaultShutdown + lease):
		t.Fatalf("Run did not return within ShutdownTimeout+Lease (%v) of its ctx's end with the server frozen", queue.DefaultShutdown+lease)
	}
	t.Logf("Run returned %v after its ctx ended, server frozen", time.Since(stopAt).Round(time.Millisecond))
	srv.Thaw()
	thawed = true
	deadline := time.After(60 * time.Second)
	for {
		mu.Lock()
		k := len(runs)
		mu.Unlock()
		if k == n {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("after the thaw, %d of %d jobs ran within 60 s", k, n)
		case <-started:
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Every job ran; wait for the queue to drain, then stop.
	for {
		st, err := b.Stats(ctxT(t), "default")
		if err != nil {
			t.Fatal(err)
		}
		if st.Ready+st.Running+st.Scheduled == 0 {
			if st.Dead != 0 {
				t.Fatalf("%d jobs dead-lettered", st.Dead)
			}
			break
		}
		select {
		case <-deadline:
			t.Fatalf("queue not drained: %+v", st)
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel2()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for _, r := range runs {
		dups += r - 1
	}
	t.Logf("%d jobs, 0 lost, %d extra runs", n, dups)
	for _, o := range overlaps {
		t.Error(o)
	}
}
