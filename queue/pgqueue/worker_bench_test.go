package pgqueue_test

import (
	"context"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

// BenchmarkWorkerEndToEnd: a producer enqueues b.N jobs in batches of 100
// while a Worker runs them with a no-op handler; jobs/s from the first
// enqueue until the Worker has settled the last one (as bench/'s river
// comparison measures).
func BenchmarkWorkerEndToEnd(b *testing.B) {
	be, _ := newBackend(b, pgqueue.Options{})
	client, err := queue.NewClient(be, queue.ClientOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var h queue.Handlers
	if err := queue.Handle(&h, func(context.Context, *queue.Typed[noopArgs]) error { return nil }, queue.HandlerOptions{}); err != nil {
		b.Fatal(err)
	}
	w, err := queue.NewWorker(be, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{"bench": {Concurrency: 200, FetchBatch: 100}},
		Logger: quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- w.Run(ctx) }()
	defer func() { cancel(); <-runErr }()
	reqs := make([]queue.Request, 100)
	for i := range reqs {
		reqs[i] = queue.Request{Args: noopArgs{}, Options: queue.EnqueueOptions{Queue: "bench"}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for n := 0; n < b.N; n += len(reqs) {
		if _, err := client.EnqueueMany(ctx, reqs[:min(len(reqs), b.N-n)]); err != nil {
			b.Fatal(err)
		}
	}
	for w.Stats().Processed < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
}
