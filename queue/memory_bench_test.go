package queue_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

const benchBatch = 100

func benchJobs(n int) []*queue.Job {
	js := make([]*queue.Job, n)
	for i := range js {
		js[i] = &queue.Job{Kind: "bench", Queue: "bench", Args: []byte(`{}`), MaxAttempts: 3, Timeout: time.Minute}
	}
	return js
}

// BenchmarkMemoryEnqueueFetchSettle is the backend's share of a job's trip
// through a Worker: one goroutine enqueues a batch of 100, fetches it and
// settles it Done. ns/op is per job.
func BenchmarkMemoryEnqueueFetchSettle(b *testing.B) {
	m, err := queue.NewMemory(queue.MemoryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := benchJobs(benchBatch)
	out := make([]queue.Outcome, benchBatch)
	req := queue.FetchRequest{Queue: "bench", Max: benchBatch, Lease: time.Minute}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%benchBatch == 0 {
			if _, err := m.Enqueue(ctx, in); err != nil {
				b.Fatal(err)
			}
			js, err := m.Fetch(ctx, req)
			if err != nil || len(js) != benchBatch {
				b.Fatalf("Fetch: %d jobs, %v", len(js), err)
			}
			for i, j := range js {
				out[i] = queue.Outcome{Job: j, Kind: queue.Done}
			}
			if _, err := m.Settle(ctx, out); err != nil {
				b.Fatal(err)
			}
		}
		n++
	}
}

// BenchmarkMemoryPipeline is the backend's share of a Worker's throughput:
// the benchmark loop produces (Enqueue in batches of 100) while a consumer
// goroutine fetches up to 100, settles them Done and Waits when the queue
// is empty, on a Memory bounded to 10,000 jobs with FullBlock. ns/op is per
// job; the backlog left when the loop ends (≤ 10,000) drains untimed.
func BenchmarkMemoryPipeline(b *testing.B) {
	m, err := queue.NewMemory(queue.MemoryOptions{MaxJobs: 10_000, Full: queue.FullBlock})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var target atomic.Int64
	target.Store(-1)
	var wg sync.WaitGroup
	wg.Go(func() {
		out := make([]queue.Outcome, benchBatch)
		req := queue.FetchRequest{Queue: "bench", Max: benchBatch, Lease: time.Minute}
		for done := int64(0); ; {
			if t := target.Load(); t >= 0 && done >= t {
				return
			}
			js, err := m.Fetch(ctx, req)
			if err != nil {
				b.Error(err)
				return
			}
			if len(js) == 0 {
				_ = m.Wait(ctx, "bench", time.Millisecond)
				continue
			}
			for i, j := range js {
				out[i] = queue.Outcome{Job: j, Kind: queue.Done}
			}
			if _, err := m.Settle(ctx, out[:len(js)]); err != nil {
				b.Error(err)
				return
			}
			done += int64(len(js))
		}
	})
	in := benchJobs(benchBatch)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n++; n%benchBatch == 0 {
			if _, err := m.Enqueue(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}
	target.Store(int64(n / benchBatch * benchBatch))
	wg.Wait()
}

// BenchmarkChannelHandoff is the physical limit BenchmarkMemoryPipeline is
// measured against: the loop hands *Job values to a consumer goroutine
// through a buffered channel of 10,000.
func BenchmarkChannelHandoff(b *testing.B) {
	ch := make(chan *queue.Job, 10_000)
	var wg sync.WaitGroup
	wg.Go(func() {
		for range ch {
		}
	})
	j := benchJobs(1)[0]
	b.ReportAllocs()
	for b.Loop() {
		ch <- j
	}
	close(ch)
	wg.Wait()
}
