// Package qbench measures job queues end to end, the same way for ladder's
// backends and for their peers: jobs/s from the first enqueue until the last
// acknowledgement is observed, and enqueue→start latency under a steady,
// bounded load. bench/queue_test.go (BenchmarkQueue) and cmd/queuebench
// drive it.
//
// Every System runs a no-op handler on a fixed number of handler goroutines
// (its workers) against the same server as its peer.
package qbench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"syscall"
	"time"
)

// System is one queue under test.
type System interface {
	// Start starts the workers: workers handler goroutines, each job's
	// handler calling run with the stamp the job was enqueued with and
	// doing nothing else.
	Start(ctx context.Context, workers int, run func(stamp int64)) error
	// Enqueue stores one batch of jobs, one per stamp, the way the
	// system's docs recommend for a batch.
	Enqueue(ctx context.Context, stamps []int64) error
	// Settled reports whether every job enqueued so far has been
	// acknowledged (completed in the store, not just handled).
	Settled(ctx context.Context) (bool, error)
	// Close stops the workers and removes what the system stored.
	Close() error
}

// Throughput is the result of a throughput run.
type Throughput struct {
	Jobs    int
	Elapsed time.Duration // first enqueue → last acknowledgement observed
	// CPU is the CPU time (user + system) this process spent meanwhile, on
	// every core: on a shared machine a steadier figure than Elapsed. It
	// leaves out the servers' CPU (redis-server, postgres).
	CPU time.Duration
	// ServerCPU is the CPU time the server spent meanwhile, where the
	// system can tell (redis-server's INFO cpu); 0 otherwise.
	ServerCPU time.Duration
}

// ServerCPUer is a System that can read its server's CPU time.
type ServerCPUer interface {
	ServerCPU(ctx context.Context) (time.Duration, error)
}

// ServerCPUPerJob is the server's CPU time per job (0 when unknown).
func (t Throughput) ServerCPUPerJob() time.Duration {
	return t.ServerCPU / time.Duration(max(t.Jobs, 1))
}

// CPUPerJob is the process's CPU time per job.
func (t Throughput) CPUPerJob() time.Duration { return t.CPU / time.Duration(max(t.Jobs, 1)) }

// PerSec is jobs per second.
func (t Throughput) PerSec() float64 { return float64(t.Jobs) / t.Elapsed.Seconds() }

// settlePoll is how often Settled is asked once every job was enqueued.
const settlePoll = time.Millisecond

// MeasureThroughput enqueues n jobs in batches of batch from one producer
// while workers handle them, and returns the time from the first enqueue
// until Settled first reports every job acknowledged. The system must be
// started; ctx bounds the run.
func MeasureThroughput(ctx context.Context, s System, n, batch int) (Throughput, error) {
	if n <= 0 || batch <= 0 {
		return Throughput{}, errors.New("qbench: n and batch must be > 0")
	}
	stamps := make([]int64, min(batch, n))
	srv, _ := s.(ServerCPUer)
	var srv0 time.Duration
	if srv != nil {
		var err error
		if srv0, err = srv.ServerCPU(ctx); err != nil {
			return Throughput{}, fmt.Errorf("server cpu: %w", err)
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	for sent := 0; sent < n; {
		k := min(batch, n-sent)
		if err := s.Enqueue(ctx, stamps[:k]); err != nil {
			return Throughput{}, fmt.Errorf("enqueue: %w", err)
		}
		sent += k
	}
	for {
		ok, err := s.Settled(ctx)
		if err != nil {
			return Throughput{}, fmt.Errorf("settled: %w", err)
		}
		if ok {
			t := Throughput{Jobs: n, Elapsed: time.Since(start), CPU: cpuTime() - cpu0}
			if srv != nil {
				srv1, err := srv.ServerCPU(ctx)
				if err != nil {
					return Throughput{}, fmt.Errorf("server cpu: %w", err)
				}
				t.ServerCPU = srv1 - srv0
			}
			return t, nil
		}
		select {
		case <-ctx.Done():
			return Throughput{}, fmt.Errorf("not settled after %v: %w", time.Since(start).Round(time.Millisecond), ctx.Err())
		case <-time.After(settlePoll):
		}
	}
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Warm runs n jobs through a started system and waits for them to settle,
// so that connections are open and pollers awake before a measurement.
func Warm(ctx context.Context, s System, n int) error {
	_, err := MeasureThroughput(ctx, s, n, n)
	return err
}

// Latency is the result of a latency run: enqueue→start percentiles.
type Latency struct {
	Jobs          int
	Rate          float64 // jobs/s offered
	P50, P99, Max time.Duration
}

// LatencyRecorder collects enqueue→start samples from handlers; pass its
// Run to System.Start.
type LatencyRecorder struct {
	samples []int64
	n       atomic.Int64
	done    chan struct{}
}

// NewLatencyRecorder records up to n samples and signals Done after the n-th.
func NewLatencyRecorder(n int) *LatencyRecorder {
	return &LatencyRecorder{samples: make([]int64, n), done: make(chan struct{})}
}

// Run records one job start: stamp is its enqueue time in Unix nanoseconds.
func (r *LatencyRecorder) Run(stamp int64) {
	d := time.Now().UnixNano() - stamp
	i := r.n.Add(1) - 1
	if i < int64(len(r.samples)) {
		r.samples[i] = d
		if i == int64(len(r.samples))-1 {
			close(r.done)
		}
	}
}

// MeasureLatency enqueues n jobs one at a time at rate jobs/s (a steady
// load, each job stamped with its enqueue time) and returns the
// percentiles of enqueue→start that rec observed. The system must be
// started with rec.Run; ctx bounds the run.
func MeasureLatency(ctx context.Context, s System, rec *LatencyRecorder, n int, rate float64) (Latency, error) {
	if n <= 0 || n > len(rec.samples) || rate <= 0 {
		return Latency{}, errors.New("qbench: n must be in 1..recorder size, rate > 0")
	}
	gap := time.Duration(float64(time.Second) / rate)
	start := time.Now()
	one := make([]int64, 1)
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * gap)); d > 0 {
			time.Sleep(d)
		}
		one[0] = time.Now().UnixNano()
		if err := s.Enqueue(ctx, one); err != nil {
			return Latency{}, fmt.Errorf("enqueue: %w", err)
		}
	}
	select {
	case <-rec.done:
	case <-ctx.Done():
		return Latency{}, fmt.Errorf("%d of %d jobs started: %w", rec.n.Load(), n, ctx.Err())
	}
	s2 := slices.Clone(rec.samples[:n])
	slices.Sort(s2)
	pick := func(q float64) time.Duration { return time.Duration(s2[min(len(s2)-1, int(q*float64(len(s2))))]) }
	return Latency{Jobs: n, Rate: rate, P50: pick(0.50), P99: pick(0.99), Max: time.Duration(s2[len(s2)-1])}, nil
}
