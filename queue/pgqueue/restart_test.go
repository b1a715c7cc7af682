package pgqueue_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

type seqArgs struct {
	Seq int `json:"seq"`
}

func (seqArgs) Kind() string { return "seq" }

// PostgreSQL is shut down and crashed (SIGKILL) under load, and started
// again: every job whose enqueue was acknowledged runs, and the producer,
// the worker and the backend's listener recover without a restart.
func TestServerRestartUnderLoadLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("fault test: restarts a private PostgreSQL")
	}
	c := testenv.StartPGPair(t)
	db := c.Database(t)
	pool := openPool(t, db.Primary.DSN, 8)
	be := backendOn(t, pool, pgqueue.Options{})
	client, err := queue.NewClient(be, queue.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	ran := map[int]int{}
	var h queue.Handlers
	if err := queue.Handle(&h, func(ctx context.Context, j *queue.Typed[seqArgs]) error {
		mu.Lock()
		ran[j.Args.Seq]++
		mu.Unlock()
		return nil
	}, queue.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := queue.NewWorker(be, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{"q": {Concurrency: 8}},
		Lease:  2 * time.Second, PollInterval: 100 * time.Millisecond, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- w.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-runErr; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
	}()

	const total = 3000
	var acked sync.Map // seq → true once Enqueue returned no error
	var failures atomic.Int64
	prodDone := make(chan struct{})
	go func() { // the producer retries what was not acknowledged
		defer close(prodDone)
		for seq := 0; seq < total; {
			reqs := make([]queue.Request, 0, 50)
			for i := seq; i < min(seq+50, total); i++ {
				reqs = append(reqs, queue.Request{Args: seqArgs{Seq: i}, Options: queue.EnqueueOptions{Queue: "q"}})
			}
			ectx, ecancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := client.EnqueueMany(ectx, reqs)
			ecancel()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures.Add(1)
				time.Sleep(50 * time.Millisecond)
				continue
			}
			for i := seq; i < min(seq+50, total); i++ {
				acked.Store(i, true)
			}
			seq += len(reqs)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	countRan := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(ran)
	}
	eventually(t, "jobs to run before the first restart", func() bool { return countRan() > 300 })
	c.Primary.Stop() // clean (fast) shutdown under load
	time.Sleep(300 * time.Millisecond)
	c.Primary.Start()
	n := countRan()
	deadline := time.Now().Add(60 * time.Second)
	for countRan() < n+300 {
		if time.Now().After(deadline) {
			t.Fatal("no progress after the restart")
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Primary.Kill() // crash under load
	time.Sleep(300 * time.Millisecond)
	c.Primary.Start()
	select {
	case <-prodDone:
	case <-time.After(90 * time.Second):
		t.Fatal("the producer did not finish after the restarts")
	}
	deadline = time.Now().Add(90 * time.Second)
	for countRan() < total {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	lost, dups := 0, 0
	acked.Range(func(k, _ any) bool {
		if ran[k.(int)] == 0 {
			lost++
		}
		return true
	})
	for _, c := range ran {
		dups += c - 1
	}
	t.Logf("%d jobs ran, %d reruns, %d enqueue calls failed during the outages", len(ran), dups, failures.Load())
	if lost > 0 {
		t.Fatalf("%d acknowledged jobs never ran", lost)
	}
}
