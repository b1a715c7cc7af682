package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// run is one attempt of a job: its state, and the context its handler
// gets. It is its own context.Context so that starting a job costs one
// allocation and no timer: the Worker's sweeper cancels it at its deadline
// (one timer per Worker, not one per job), the heartbeat when its lease is
// lost, shutdown when ShutdownTimeout has passed.
type run struct {
	job *Job
	hd  *handler
	q   *wqueue
	// traced: start a span (a tracer provider that records is installed);
	// metered: likewise for metrics (measure the handler's duration).
	traced, metered bool

	values     context.Context // Value lookups (the span, the caller's values)
	deadline   time.Time       // the attempt's Timeout from its start, for Deadline
	deadlineNs int64           // the same on the internal clock (Worker.mono)
	timeout    time.Duration   // the attempt's bound
	// leaseUntil is the lease end as this worker knows it (internal clock):
	// fetch time + Lease, moved on by each successful Extend.
	leaseUntil atomic.Int64
	state      atomic.Int32 // runQueued → runRunning → runFinished | runAbandoned
	// why records the first reason the attempt was cancelled (why* below).
	why atomic.Int32

	mu     sync.Mutex
	done   chan struct{} // made on the first Done call
	err    error
	afters []*afterFunc
}

const (
	runQueued int32 = iota
	runRunning
	runFinished  // the handler returned and its goroutine settles
	runAbandoned // given up on (timeout + grace, or shutdown): settled by the one who gave up
)

const (
	whyNone int32 = iota
	whyTimeout
	whyLeaseLost
	whyShutdown
	whyFinished
)

// closedDone is handed out by Done after cancellation when no channel was
// made before.
var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (r *run) Deadline() (time.Time, bool) { return r.deadline, !r.deadline.IsZero() }

func (r *run) Done() <-chan struct{} {
	r.mu.Lock()
	if r.done == nil {
		if r.err != nil {
			r.done = closedDone
		} else {
			r.done = make(chan struct{})
		}
	}
	d := r.done
	r.mu.Unlock()
	return d
}

func (r *run) Err() error {
	r.mu.Lock()
	err := r.err
	r.mu.Unlock()
	return err
}

func (r *run) Value(key any) any { return r.values.Value(key) }

type afterFunc struct{ f func() }

// AfterFunc lets context.WithCancel and friends, and context.AfterFunc,
// hook this context without a goroutine each (the context package looks
// for this method).
func (r *run) AfterFunc(f func()) (stop func() bool) {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		// The context package calls AfterFunc holding the child's lock:
		// running f here would deadlock on it. (Reached only when the
		// cancellation raced with its own check of Done.)
		go f()
		return func() bool { return false }
	}
	a := &afterFunc{f: f}
	r.afters = append(r.afters, a)
	r.mu.Unlock()
	return func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range r.afters {
			if x == a {
				r.afters = append(r.afters[:i], r.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

// cancel ends the context (once) for reason why; the first reason wins.
func (r *run) cancel(why int32) {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return
	}
	r.why.CompareAndSwap(whyNone, why)
	if why == whyTimeout {
		r.err = context.DeadlineExceeded
	} else {
		r.err = context.Canceled
	}
	if r.done == nil {
		r.done = closedDone
	} else {
		close(r.done)
	}
	afters := r.afters
	r.afters = nil
	r.mu.Unlock()
	for _, a := range afters {
		a.f()
	}
}

func (r *run) String() string { return "queue.jobContext" }
