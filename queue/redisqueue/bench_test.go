package redisqueue_test

import (
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
