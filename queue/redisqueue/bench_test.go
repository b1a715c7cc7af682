package redisqueue_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// BenchmarkEnqueueFetchSettle measures the backend's own throughput: each
// iteration enqueues a batch of 100 jobs, fetches them in one call and settles
// them Done in one call (three round trips per 100 jobs). ns/op is per job.
func BenchmarkEnqueueFetchSettle(b *testing.B) {
	be := newBackend(b, redisqueue.Options{})
	const batch = 100
	jobs := make([]*queue.Job, batch)
	for i := range jobs {
		jobs[i] = job("bench")
	}
	outcomes := make([]queue.Outcome, batch)
	ctx := b.Context()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%batch == 0 {
			if _, err := be.Enqueue(ctx, jobs); err != nil {
				b.Fatal(err)
			}
			got, err := be.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: batch, Lease: time.Minute, Worker: "bench"})
			if err != nil || len(got) != batch {
				b.Fatalf("fetched %d, %v", len(got), err)
			}
			for i, j := range got {
				outcomes[i] = queue.Outcome{Job: j, Kind: queue.Done}
			}
			if _, err := be.Settle(ctx, outcomes); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "jobs/s")
}

type noopJob struct{}

func (noopJob) Kind() string { return "noop" }

// BenchmarkWorkerEndToEnd measures jobs/s through a queue.Worker with a
// no-op handler: b.N jobs are enqueued (batches of 100) while one Worker
// (200 handlers, fetch batches of 100) works them; the clock stops when the
// last is settled.
func BenchmarkWorkerEndToEnd(b *testing.B) {
	be := newBackend(b, redisqueue.Options{})
	var done atomic.Int64
	all := make(chan struct{})
	var h queue.Handlers
	n := int64(b.N)
	if err := queue.Handle(&h, func(ctx context.Context, j *queue.Typed[noopJob]) error {
		if done.Add(1) == n {
			close(all)
		}
		return nil
	}, queue.HandlerOptions{}); err != nil {
		b.Fatal(err)
	}
	w, err := queue.NewWorker(be, &h, queue.WorkerOptions{Queues: map[string]queue.QueueOptions{"q": {Concurrency: 200, FetchBatch: 100}},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	qc, _ := queue.NewClient(be, queue.ClientOptions{Defaults: queue.EnqueueOptions{Queue: "q"}})
	ctx, cancel := context.WithCancel(b.Context())
	ran := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() { ran <- w.Run(ctx) }()
	reqs := make([]queue.Request, 100)
	for i := range reqs {
		reqs[i] = queue.Request{Args: noopJob{}}
	}
	for left := b.N; left > 0; left -= 100 {
		if _, err := qc.EnqueueMany(ctx, reqs[:min(left, 100)]); err != nil {
			b.Fatal(err)
		}
	}
	<-all
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
	cancel()
	<-ran
}
