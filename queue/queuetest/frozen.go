package queuetest

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

type frozenArgs struct{ N int }

func (frozenArgs) Kind() string { return "frozen" }

// FrozenServer checks a Backend whose server freezes (SIGSTOP: connections
// open, no answer) under a running Worker on the defaults but a 3 s lease:
// after freeze, Run's shutdown still returns within the default
// ShutdownTimeout plus the lease, no run of a job overlaps another run of
// it whose ctx is still live, and once thaw has run every one of 40 jobs
// runs (0 lost, none dead-lettered); extra runs are logged. b must be
// empty on queue "default"; freeze and thaw stop and resume its server.
// logger receives the Workers' logs (nil: slog.Default()).
func FrozenServer(t *testing.T, b queue.Backend, freeze, thaw func(), logger *slog.Logger) {
	t.Helper()
	var err error
	const n = 40
	const lease = 3 * time.Second // default 30 s: scaled down to keep the test short
	cl, err := queue.NewClient(b, queue.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]queue.Request, n)
	for i := range reqs {
		reqs[i] = queue.Request{Args: frozenArgs{i}}
	}
	if _, err := cl.EnqueueMany(ctx5s(t), reqs); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	live := map[int]context.Context{} // job → ctx of the run in progress
	runs := map[int]int{}
	var overlaps []string
	started := make(chan struct{}, n*4)
	h := &queue.Handlers{}
	err = queue.Handle(h, func(ctx context.Context, j *queue.Typed[frozenArgs]) error {
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
		w, err := queue.NewWorker(b, h, queue.WorkerOptions{Lease: lease, Logger: logger})
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
	freeze()
	thawed := false
	defer func() {
		if !thawed {
			thaw()
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
	thaw()
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
		st, err := b.Stats(ctx5s(t), "default")
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

func ctx5s(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
