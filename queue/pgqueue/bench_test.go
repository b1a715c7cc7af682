package pgqueue_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

const benchBatch = 100

func benchJobs() []*queue.Job {
	jobs := make([]*queue.Job, benchBatch)
	for i := range jobs {
		jobs[i] = &queue.Job{Kind: "noop", Queue: "bench", Args: []byte(`{"n":1}`), MaxAttempts: 3, Timeout: time.Minute}
	}
	return jobs
}

func settleDone(ctx context.Context, b *pgqueue.Backend, jobs []*queue.Job) error {
	outs := make([]queue.Outcome, len(jobs))
	for i, j := range jobs {
		outs[i] = queue.Outcome{Job: j, Kind: queue.Done}
	}
	_, err := b.Settle(ctx, outs)
	return err
}

// BenchmarkEnqueueFetchSettle measures the backend's statements end to
// end, in batches of 100; one op is one job.
//
//   - serial: one loop of Enqueue 100, Fetch 100, Settle 100 Done: the
//     cost of the three statements back to back.
//   - pipelined: a producer enqueues, a fetcher fetches and a settler
//     settles, at once (as a producer and a worker do): jobs/s is the
//     throughput the server sustains.
func BenchmarkEnqueueFetchSettle(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		be, _ := newBackend(b, pgqueue.Options{})
		ctx := context.Background()
		b.ReportAllocs()
		start := time.Now()
		n := 0
		for n < b.N {
			if _, err := be.Enqueue(ctx, benchJobs()); err != nil {
				b.Fatal(err)
			}
			jobs, err := be.Fetch(ctx, queue.FetchRequest{Queue: "bench", Max: benchBatch, Lease: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			if err := settleDone(ctx, be, jobs); err != nil {
				b.Fatal(err)
			}
			n += len(jobs)
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "jobs/s")
	})
	b.Run("pipelined", func(b *testing.B) {
		be, _ := newBackend(b, pgqueue.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b.ReportAllocs()
		start := time.Now()
		var wg sync.WaitGroup
		wg.Add(2)
		var mu sync.Mutex
		cond := sync.NewCond(&mu)
		ahead := 0  // enqueued, not yet settled: bounded to 2,000 jobs
		go func() { // producer
			defer wg.Done()
			for n := 0; n < b.N; n += benchBatch {
				mu.Lock()
				for ahead >= 2000 {
					cond.Wait()
				}
				ahead += benchBatch
				mu.Unlock()
				if _, err := be.Enqueue(ctx, benchJobs()); err != nil {
					b.Error(err)
					return
				}
			}
		}()
		toSettle := make(chan []*queue.Job, 4)
		go func() { // settler
			defer wg.Done()
			for jobs := range toSettle {
				if err := settleDone(ctx, be, jobs); err != nil {
					b.Error(err)
				}
				mu.Lock()
				ahead -= len(jobs)
				cond.Signal()
				mu.Unlock()
			}
		}()
		done := 0
		for done < b.N { // fetcher
			jobs, err := be.Fetch(ctx, queue.FetchRequest{Queue: "bench", Max: benchBatch, Lease: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			if len(jobs) == 0 {
				if err := be.Wait(ctx, "bench", 10*time.Millisecond); err != nil {
					b.Fatal(err)
				}
				continue
			}
			done += len(jobs)
			toSettle <- jobs
		}
		close(toSettle)
		wg.Wait()
		b.ReportMetric(float64(done)/time.Since(start).Seconds(), "jobs/s")
	})
}

// BenchmarkFetchContention: 4 loops of Enqueue 100, Fetch 100, Settle 100
// on one queue at once, the fetches plain or with a Limit (and a Rate),
// which serialise on the queue's row: the cost of a shared limit. One op
// is one job.
func BenchmarkFetchContention(b *testing.B) {
	for _, tc := range []struct {
		name string
		req  queue.FetchRequest
	}{
		{"plain", queue.FetchRequest{}},
		{"limit", queue.FetchRequest{Limit: 1_000_000}},
		{"limit+rate", queue.FetchRequest{Limit: 1_000_000, Rate: queue.Rate{N: 1_000_000_000, Per: time.Second}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			be, _ := newBackend(b, pgqueue.Options{})
			ctx := context.Background()
			req := tc.req
			req.Queue, req.Max, req.Lease = "bench", benchBatch, time.Minute
			const loops = 4
			b.ReportAllocs()
			start := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			total := 0
			for range loops {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						if total >= b.N {
							mu.Unlock()
							return
						}
						total += benchBatch
						mu.Unlock()
						if _, err := be.Enqueue(ctx, benchJobs()); err != nil {
							b.Error(err)
							return
						}
						jobs, err := be.Fetch(ctx, req)
						if err != nil {
							b.Error(err)
							return
						}
						if err := settleDone(ctx, be, jobs); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(total)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
