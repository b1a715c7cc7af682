package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Worker runs the jobs of its queues through Handlers: per queue a fetch
// loop and a bounded pool of handler goroutines, plus one heartbeat that
// renews every running lease, one sweeper that enforces timeouts, one
// settler that applies outcomes in batches, and a scheduler for periodic
// jobs. Run starts them and returns when they have all ended.
type Worker struct {
	b    Backend
	h    *Handlers
	opts WorkerOptions

	id                         string
	lease, poll, shutdown      time.Duration
	now                        func() time.Time
	rnd                        func() uint64
	log                        *slog.Logger
	queues                     []*wqueue
	byName                     map[string]*wqueue
	client                     *Client // periodic enqueues
	tel                        *workerTel
	tracer                     trace.Tracer
	started, stopping          atomic.Bool
	out                        outbox
	handlers                   sync.WaitGroup // handler goroutines not abandoned
	sweepPoke                  chan struct{}
	nextSweep                  atomic.Int64 // UnixNano the sweeper wakes at; MaxInt64 when idle
	abandoned                  atomic.Int64
	settleOut, hbOut, fetchOut outage
	epoch                      time.Time       // origin of the internal clock (mono)
	base                       context.Context // values for handler contexts: Run's ctx without its cancellation
}

// pending is an outcome waiting for the settler, with the lease end the
// worker knows (internal clock, UnixNano).
type pending struct {
	oc         Outcome
	leaseUntil int64
}

// NewWorker returns a Worker running b's jobs through h. Nothing runs
// until Run.
func NewWorker(b Backend, h *Handlers, opts WorkerOptions) (*Worker, error) {
	if b == nil {
		return nil, invalid("NewWorker: nil Backend")
	}
	if h == nil {
		return nil, invalid("NewWorker: nil Handlers")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	w := &Worker{
		b: b, h: h, opts: opts, id: opts.ID,
		lease: or(opts.Lease, DefaultLease), poll: or(opts.PollInterval, DefaultPoll),
		shutdown: or(opts.ShutdownTimeout, DefaultShutdown),
		now:      opts.Now, rnd: opts.Rand, log: opts.Logger,
		byName:    map[string]*wqueue{},
		sweepPoke: make(chan struct{}, 1),
		epoch:     time.Now(),
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.rnd == nil {
		w.rnd = mrand.Uint64
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.id == "" {
		w.id = defaultID()
	}
	tp := opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	w.tracer = tp.Tracer(scope)
	qs := opts.Queues
	if len(qs) == 0 {
		qs = map[string]QueueOptions{DefaultQueue: {}}
	}
	names := make([]string, 0, len(qs))
	for n := range qs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		q := newWQueue(w, n, qs[n])
		w.queues = append(w.queues, q)
		w.byName[n] = q
	}
	w.out.wake = make(chan struct{}, 1)
	w.nextSweep.Store(maxInt64)
	var err error
	w.client, err = NewClient(b, ClientOptions{Now: w.now, MeterProvider: opts.MeterProvider, TracerProvider: opts.TracerProvider})
	if err != nil {
		return nil, err
	}
	if err := w.checkPeriodic(); err != nil {
		return nil, err
	}
	w.tel = newWorkerTel(w, opts.MeterProvider)
	return w, nil
}

const maxInt64 = 1<<63 - 1

func or(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func defaultID() string {
	host, _ := os.Hostname()
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// ID is the identity this Worker fetches under.
func (w *Worker) ID() string { return w.id }

// Run works the queues until ctx is done, then shuts down gracefully:
// it stops fetching, lets running jobs finish for up to ShutdownTimeout,
// then cancels their ctx and releases their leases (Settle Release) so they
// run again at once elsewhere, applies every pending outcome, and returns
// nil once every goroutine it started has ended, except those of handlers
// that ignore their ctx: those are abandoned (their jobs released, counted
// in Stats().Abandoned). A Worker runs once; a second Run returns ErrClosed.
func (w *Worker) Run(ctx context.Context) error {
	if !w.started.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Worker.Run called twice", ErrClosed)
	}
	bg := context.WithoutCancel(ctx) // backend calls that must outlive ctx (settle, release)
	w.base = bg
	var aux sync.WaitGroup
	stopAux := make(chan struct{})
	settled := make(chan struct{})
	go func() { defer close(settled); w.settleLoop(bg) }()
	aux.Add(3)
	go func() { defer aux.Done(); w.heartbeatLoop(bg, stopAux) }()
	go func() { defer aux.Done(); w.sweepLoop(stopAux) }()
	go func() { defer aux.Done(); w.tel.sampleLoop(bg, stopAux) }()

	var fetchers sync.WaitGroup
	for _, q := range w.queues {
		w.handlers.Add(q.conc)
		for _, s := range q.newSlots(q.conc) {
			go q.serve(s)
		}
		fetchers.Add(1)
		go func() { defer fetchers.Done(); q.fetchLoop(ctx) }()
	}
	if len(w.opts.Periodic) > 0 {
		fetchers.Add(1)
		go func() { defer fetchers.Done(); w.scheduleLoop(ctx) }()
	}

	<-ctx.Done()
	w.stopping.Store(true)
	fetchers.Wait() // each closes its queue's channel: handlers release what is left in it
	w.drain()
	close(stopAux)
	aux.Wait()
	w.closeOutbox() // every non-abandoned sender has exited; abandoned ones never send
	<-settled
	w.tel.close()
	return nil
}

// drain waits for the handlers, for up to ShutdownTimeout, then cancels
// the jobs still running, waits a grace for them to return (then they are
// released by their goroutine) and abandons the rest (released here).
func (w *Worker) drain() {
	done := make(chan struct{})
	go func() { w.handlers.Wait(); close(done) }()
	t := time.NewTimer(w.shutdown)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	}
	n := 0
	w.eachRunning(func(r *run) { r.cancel(whyShutdown); n++ })
	w.log.Warn("queue: shutdown timeout passed; cancelled running jobs", "worker", w.id, "jobs", n, "timeout", w.shutdown)
	t.Reset(shutdownGrace)
	select {
	case <-done:
		return
	case <-t.C:
	}
	w.eachRunning(func(r *run) {
		if r.state.CompareAndSwap(runRunning, runAbandoned) {
			w.abandon(r, Outcome{Job: r.job, Kind: Release}, "shutdown")
		}
	})
	<-done
}

// shutdownGrace is how long handlers get to return once their ctx is
// cancelled at shutdown before they are abandoned.
const shutdownGrace = time.Second

// abandon gives up on a run whose handler has not returned: its outcome is
// settled by the caller's choice, its slot freed, a replacement goroutine
// started for its pool, and its goroutine left to end on its own.
func (w *Worker) abandon(r *run, oc Outcome, why string) {
	q := r.q
	w.abandoned.Add(1)
	q.abandoned.Add(1)
	w.log.Warn("queue: handler did not return; abandoning its goroutine", "worker", w.id, "queue", q.name,
		"kind", r.job.Kind, "job", r.job.ID, "attempt", r.job.Attempt, "reason", why)
	w.send(oc, r.leaseUntil.Load())
	q.countOutcome(oc.Kind)
	w.tel.recordOutcome(q, r.job.Kind, oc.Kind, 0)
	q.finished()
	if !w.stopping.Load() {
		w.handlers.Add(1)
		go q.serve(q.newSlot())
	}
	w.handlers.Done() // on behalf of the abandoned goroutine, which never calls it
}

func (w *Worker) eachRunning(f func(*run)) {
	for _, q := range w.queues {
		for _, s := range *q.slots.Load() {
			if r := s.cur.Load(); r != nil && r.state.Load() == runRunning {
				f(r)
			}
		}
	}
}

// outage logs a dependency's failure once per outage and its recovery.
type outage struct {
	down atomic.Bool
}

func (o *outage) fail(log *slog.Logger, msg string, args ...any) {
	if o.down.CompareAndSwap(false, true) {
		log.Error(msg, args...)
	}
}

func (o *outage) ok(log *slog.Logger, msg string, args ...any) {
	if o.down.CompareAndSwap(true, false) {
		log.Info(msg, args...)
	}
}
