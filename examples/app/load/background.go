package load

import (
	"context"
	"time"
)

// Background is a Run in its own goroutine, for drills: inject a fault
// while it runs, then Wait for the Result and read the Timeline around the
// moment of the fault (Window).
type Background struct {
	started chan struct{}
	done    chan struct{}
	res     *Result
	err     error
	begin   time.Time // set before started is closed
}

// Start runs Run(ctx, opts) in the background. Wait must be called.
func Start(ctx context.Context, opts Options) *Background {
	b := &Background{started: make(chan struct{}), done: make(chan struct{})}
	before := opts.BeforeStep
	opts.BeforeStep = func(n int, s Step) {
		if n == 1 {
			close(b.started)
		}
		if before != nil {
			before(n, s)
		}
	}
	b.begin = time.Now()
	go func() { // owned: Wait waits for it
		defer close(b.done)
		b.res, b.err = Run(ctx, opts)
	}()
	return b
}

// Started is closed when the first step begins (after the setup); if Run
// fails first, Done closes instead.
func (b *Background) Started() <-chan struct{} { return b.started }

// Done is closed when the run has ended.
func (b *Background) Done() <-chan struct{} { return b.done }

// WaitStarted waits for the first step, returning Run's error if it ended
// before (bad options, a setup that failed, ctx).
func (b *Background) WaitStarted() error {
	select {
	case <-b.started:
		return nil
	case <-b.done:
		if b.err != nil {
			return b.err
		}
		return nil
	}
}

// Wait returns the run's result.
func (b *Background) Wait() (*Result, error) {
	<-b.done
	return b.res, b.err
}

// Window is what happened to the requests started in an interval.
type Window struct {
	Requests, Errors int
}

// Window sums the timeline's samples that lie entirely inside [from, to),
// times since the run's start (Result.Start); to ≤ 0 means the end.
// Samples straddling a bound are left out: requests in flight when a fault
// lands belong to neither side.
func (r *Result) Window(from, to time.Duration) Window {
	var w Window
	for _, s := range r.Timeline {
		if s.At < from || to > 0 && s.At+r.Interval > to {
			continue
		}
		w.Requests += s.Requests
		w.Errors += s.Errors
	}
	return w
}

// Since returns how long after the run's start t was (for Window bounds).
func (r *Result) Since(t time.Time) time.Duration { return t.Sub(r.Start) }
