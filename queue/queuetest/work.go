package queuetest

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// WorkOptions configure Work.
type WorkOptions struct {
	// Enqueue are the job's options, as the producer would set them
	// (Queue, MaxAttempts, Timeout, Meta, …).
	Enqueue queue.EnqueueOptions
	// Attempt is the attempt the run is: 0 or 1 for the first; n > 1 runs
	// it as attempt n after n-1 failed ones (LastError "queuetest: attempt
	// n-1 failed"), e.g. to see that the last attempt dead-letters. It
	// must not exceed the job's MaxAttempts.
	Attempt int
	// Now is the clock of the run's Client, Worker and backend; nil means
	// time.Now. A Clock's Now plugs in here.
	Now func() time.Time
	// Timeout bounds the whole run: a handler that outlives it fails the
	// test; 0 means one minute.
	Timeout time.Duration
}

// Result is the outcome of one run of a job.
type Result struct {
	// Kind is what the worker decided: queue.Done for nil, queue.Retry
	// for an error while attempts remain, queue.Dead for an error on the
	// last attempt, a queue.Cancel, an unknown kind or malformed
	// arguments, queue.Snooze for queue.SnoozeFor, queue.Release for a
	// handler that outlived its timeout.
	Kind queue.OutcomeKind
	// Err is the error recorded with a Retry or Dead (the handler's
	// error text; a panic's with its stack).
	Err string
	// At is when a Retry or Snooze would run again.
	At time.Time
	// Job is the job as its handler got it.
	Job queue.Job
}

// Work enqueues one job of args through a queue.Client and runs it through
// h's handler of args' kind on a queue.Worker over a private in-memory
// backend, synchronously: it returns once the worker has settled the
// attempt, with the outcome the worker chose. It fails t if the job cannot
// be enqueued or no outcome comes within opts.Timeout.
func Work[A queue.Kinded](ctx context.Context, t testing.TB, h *queue.Handlers, args A, opts WorkOptions) Result {
	t.Helper()
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := queue.NewMemory(queue.MemoryOptions{Now: opts.Now})
	if err != nil {
		t.Fatalf("queuetest: Work: %v", err)
	}
	spy := &settleSpy{Backend: m, first: make(chan queue.Outcome, 1)}
	c, err := queue.NewClient(spy, queue.ClientOptions{Now: opts.Now})
	if err != nil {
		t.Fatalf("queuetest: Work: %v", err)
	}
	if _, err := c.Enqueue(ctx, args, opts.Enqueue); err != nil {
		t.Fatalf("queuetest: Work: enqueue %T: %v", args, err)
	}
	q := opts.Enqueue.Queue
	if q == "" {
		q = queue.DefaultQueue
	}
	for n := 1; n < opts.Attempt; n++ {
		failAttempt(ctx, t, m, q, n)
	}
	w, err := queue.NewWorker(spy, h, queue.WorkerOptions{
		Queues:          map[string]queue.QueueOptions{q: {Concurrency: 1}},
		ID:              "queuetest",
		ShutdownTimeout: time.Second,
		Now:             opts.Now,
		Logger:          slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("queuetest: Work: %v", err)
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(runCtx) })
	defer func() { stop(); wg.Wait() }()
	select {
	case o := <-spy.first:
		return Result{Kind: o.Kind, Err: o.Err, At: o.At, Job: *o.Job}
	case <-ctx.Done():
		t.Fatalf("queuetest: Work: no outcome for the %q job: %v", args.Kind(), ctx.Err())
		return Result{}
	}
}

// failAttempt runs attempt n of the queue's one job as a failure.
func failAttempt(ctx context.Context, t testing.TB, b queue.Backend, q string, n int) {
	t.Helper()
	js, err := b.Fetch(ctx, queue.FetchRequest{Queue: q, Max: 1, Lease: time.Minute})
	if err != nil || len(js) != 1 {
		t.Fatalf("queuetest: Work: fetching attempt %d: %d jobs, %v", n, len(js), err)
	}
	if js[0].Attempt >= js[0].MaxAttempts {
		t.Fatalf("queuetest: Work: WorkOptions.Attempt past the job's MaxAttempts %d", js[0].MaxAttempts)
	}
	errs, err := b.Settle(ctx, []queue.Outcome{{Job: js[0], Kind: queue.Retry,
		Err: "queuetest: attempt " + strconv.Itoa(n) + " failed"}})
	if err == nil {
		err = errs[0]
	}
	if err != nil {
		t.Fatalf("queuetest: Work: failing attempt %d: %v", n, err)
	}
}

// settleSpy passes everything to its Backend and hands the first outcome
// it settles to first.
type settleSpy struct {
	queue.Backend
	once  sync.Once
	first chan queue.Outcome
}

func (s *settleSpy) Settle(ctx context.Context, os []queue.Outcome) ([]error, error) {
	errs, err := s.Backend.Settle(ctx, os)
	if err == nil && len(os) > 0 {
		s.once.Do(func() {
			o := os[0]
			j := *o.Job
			o.Job = &j
			s.first <- o
		})
	}
	return errs, err
}
