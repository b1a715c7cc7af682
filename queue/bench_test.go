package queue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "noop" }

func telemetry(b *testing.B, on bool) metric.MeterProvider {
	if !on {
		return noop.NewMeterProvider()
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp
}

// BenchmarkWorkerMemory is the end-to-end figure: EnqueueMany batches of
// 100 into a Memory, a Worker with a no-op handler fetching, running and
// settling them. One op is one job, enqueue through settle.
func BenchmarkWorkerMemory(b *testing.B) {
	for _, tc := range []struct {
		name string
		tel  bool
	}{{"telemetry=off", false}, {"telemetry=on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			mp := telemetry(b, tc.tel)
			m, _ := NewMemory(MemoryOptions{MaxJobs: 10_000, Full: FullBlock})
			h := &Handlers{}
			_ = Handle(h, func(context.Context, *Typed[noopArgs]) error { return nil }, HandlerOptions{})
			c, _ := NewClient(m, ClientOptions{MeterProvider: mp})
			w, _ := NewWorker(m, h, WorkerOptions{Logger: quiet, MeterProvider: mp,
				Queues: map[string]QueueOptions{"default": {Concurrency: 256, FetchBatch: 128}}})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() { done <- w.Run(ctx) }()
			reqs := make([]Request, 100)
			for i := range reqs {
				reqs[i] = Request{Args: noopArgs{}}
			}
			b.ReportAllocs()
			b.ResetTimer()
			t0, c0 := time.Now(), cpuTime()
			for n := b.N; n > 0; n -= len(reqs) {
				batch := reqs[:min(n, len(reqs))]
				if _, err := c.EnqueueMany(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			for w.Stats().Succeeded < int64(b.N) {
				time.Sleep(200 * time.Microsecond)
			}
			el := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "jobs/s")
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/job")
			cancel()
			<-done
		})
	}
}

// nullBackend hands out jobs as fast as it is asked, from a fixed set
// reused round robin, and settles nothing: it isolates the worker's own
// cost per job (fetch hand-off, handler pool, decode, outcome, settle
// batching, telemetry).
type nullBackend struct {
	fakeBackend
	jobs    []*Job
	next    int
	left    atomic.Int64
	settled atomic.Int64
}

func newNull(n int) *nullBackend {
	nb := &nullBackend{jobs: make([]*Job, 4096)}
	for i := range nb.jobs {
		nb.jobs[i] = &Job{ID: "x", Kind: "noop", Queue: "default", Args: []byte("{}"), Attempt: 1, MaxAttempts: 25, Timeout: time.Minute, Lease: "l"}
	}
	nb.left.Store(int64(n))
	return nb
}

func (nb *nullBackend) Fetch(ctx context.Context, req FetchRequest) ([]*Job, error) {
	n := int64(req.Max)
	if left := nb.left.Add(-n); left < 0 {
		n += left
		if n <= 0 {
			return nil, nil
		}
	}
	nb.fakeBackend.mu.Lock()
	i := nb.next
	nb.next = (nb.next + int(n)) % (len(nb.jobs) - 256)
	nb.fakeBackend.mu.Unlock()
	return nb.jobs[i : i+int(n)], nil
}

func (nb *nullBackend) Wait(ctx context.Context, queue string, max time.Duration) error {
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return nil
}

var settleErrs = make([]error, settleBatch)

func (nb *nullBackend) Settle(ctx context.Context, ocs []Outcome) ([]error, error) {
	nb.settled.Add(int64(len(ocs)))
	return settleErrs[:len(ocs)], nil
}

func (nb *nullBackend) Extend(ctx context.Context, jobs []*Job, d time.Duration) ([]bool, error) {
	return make([]bool, len(jobs)), nil
}

// BenchmarkWorkerOverhead: the worker's own cost per job, over a backend
// that costs nothing.
func BenchmarkWorkerOverhead(b *testing.B) {
	for _, tc := range []struct {
		name string
		tel  bool
	}{{"telemetry=off", false}, {"telemetry=on", true}} {
		b.Run(tc.name, func(b *testing.B) {
			mp := telemetry(b, tc.tel)
			nb := newNull(b.N)
			h := &Handlers{}
			_ = Handle(h, func(context.Context, *Typed[noopArgs]) error { return nil }, HandlerOptions{})
			w, _ := NewWorker(nb, h, WorkerOptions{Logger: quiet, MeterProvider: mp,
				Queues: map[string]QueueOptions{"default": {Concurrency: 256, FetchBatch: 128}}})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			b.ReportAllocs()
			b.ResetTimer()
			t0, c0 := time.Now(), cpuTime()
			go func() { done <- w.Run(ctx) }()
			for nb.settled.Load() < int64(b.N) {
				time.Sleep(200 * time.Microsecond)
			}
			el := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/el.Seconds(), "jobs/s")
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N), "cpu-ns/job")
			cancel()
			<-done
		})
	}
}
