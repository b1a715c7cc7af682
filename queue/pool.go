package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// wqueue is one queue as a Worker works it: a fetch loop feeding a
// dispatcher read by a fixed pool of long-lived handler goroutines (no
// goroutine per job), each with its slot (what it runs now, its counters).
type wqueue struct {
	w           *Worker
	name        string
	opts        QueueOptions
	conc, batch int
	disp        dispatcher

	inflight atomic.Int64 // fetched and not finished: queued in jobs or running
	waiting  atomic.Bool  // the fetch loop waits for a free slot
	wake     chan struct{}

	mu    sync.Mutex
	slots atomic.Pointer[[]*slot] // copy on write

	abandoned atomic.Int64
	tel       queueTel
}

// slot is one handler goroutine's state, written by it alone (its
// counters are single-writer atomics: no cache line shared between cores
// on the hot path) and read by the heartbeat, the sweeper and Stats.
type slot struct {
	cur    atomic.Pointer[run]
	counts [numOutcomes]atomic.Int64
	ta     typedAlloc // the goroutine's own: its *Typed values
	_      [64]byte
}

const numOutcomes = int(Release) + 1

func newWQueue(w *Worker, name string, o QueueOptions) *wqueue {
	q := &wqueue{w: w, name: name, opts: o, conc: o.Concurrency, batch: o.FetchBatch, wake: make(chan struct{}, 1)}
	if q.conc == 0 {
		q.conc = DefaultConcurrency
	}
	if q.batch == 0 {
		q.batch = min(q.conc, 100)
	}
	q.batch = min(q.batch, q.conc)
	empty := []*slot{}
	q.slots.Store(&empty)
	q.tel = newQueueTel(name)
	return q
}

func (q *wqueue) newSlot() *slot { return q.newSlots(1)[0] }

// newSlots adds k slots in one copy (a pool of k goroutines starting one
// slot at a time would copy the list k times: quadratic).
func (q *wqueue) newSlots(k int) []*slot {
	q.mu.Lock()
	defer q.mu.Unlock()
	old := *q.slots.Load()
	n := make([]*slot, len(old), len(old)+k)
	copy(n, old)
	for range k {
		n = append(n, &slot{})
	}
	q.slots.Store(&n)
	return n[len(old):]
}

// finished frees the slot of one job, waking the fetch loop if it waits
// and this makes a slot free (it fetches at once if nothing else is
// running) or enough of them for a half batch.
func (q *wqueue) finished() {
	free := q.conc - int(q.inflight.Add(-1))
	if (free == 1 || free == q.want()) && q.waiting.Load() {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

func (q *wqueue) countOutcome(k OutcomeKind) {
	// Abandonments are rare: counted on a slot of their own kind would
	// need a writer; use the first slot's atomics (Add, not single-writer).
	s := (*q.slots.Load())[0]
	s.counts[k].Add(1)
}

// fillDelay is how long the fetch loop waits for more slots to free before
// fetching a partial batch, so that a busy queue fetches in batches.
const fillDelay = time.Millisecond

// want is how many free slots the fetch loop waits for (at most fillDelay)
// before it fetches.
func (q *wqueue) want() int { return max(1, q.batch/2) }

// fetchLoop leases jobs for free slots until ctx is done, then closes the
// dispatcher.
func (q *wqueue) fetchLoop(ctx context.Context) {
	defer q.disp.close()
	w := q.w
	fill := time.NewTimer(time.Hour)
	fill.Stop()
	defer fill.Stop()
	req := FetchRequest{Queue: q.name, Lease: w.lease, Worker: w.id, Limit: q.opts.Limit, Rate: q.opts.Rate}
	var fails, empties int
	runs := make([]*run, 0, q.batch)
	for ctx.Err() == nil {
		free := q.conc - int(q.inflight.Load())
		if want := q.want(); free < want {
			// Wait for a slot: at once when one is free and the rest
			// are not coming soon, else until enough are free.
			q.waiting.Store(true)
			if free = q.conc - int(q.inflight.Load()); free < want {
				if free > 0 {
					fill.Reset(fillDelay)
				}
				select {
				case <-q.wake:
				case <-fill.C:
				case <-ctx.Done():
				}
				fill.Stop()
			}
			q.waiting.Store(false)
			continue
		}
		req.Max = min(free, q.batch)
		start := w.mono()
		jobs, err := w.b.Fetch(ctx, req)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fails++
			q.w.fetchOutage(q, err)
			sleepCtx(ctx, backoffStep(fails, 10*time.Millisecond, w.poll))
			continue
		}
		if fails > 0 {
			fails = 0
			w.fetchRecovered(q)
		}
		if len(jobs) == 0 {
			// A Wait that returns at once while Fetch finds nothing (a
			// Limit or Rate holds ready jobs back, or another worker took
			// them) must not spin: back off after a few in a row.
			if empties > 2 {
				sleepCtx(ctx, backoffStep(empties-2, time.Millisecond, min(w.poll, 100*time.Millisecond)))
			}
			ws := w.mono()
			if err := w.b.Wait(ctx, q.name, w.poll); err != nil && ctx.Err() == nil {
				q.w.fetchOutage(q, err)
				sleepCtx(ctx, backoffStep(1, 10*time.Millisecond, w.poll))
			}
			if w.mono()-ws < int64(time.Millisecond) {
				empties++
			} else {
				empties = 0
			}
			continue
		}
		empties = 0
		if len(jobs) > req.Max { // a broken backend: never exceed the bound
			for _, j := range jobs[req.Max:] {
				w.send(Outcome{Job: j, Kind: Release}, addNs(start, w.lease))
			}
			jobs = jobs[:req.Max]
		}
		q.inflight.Add(int64(len(jobs)))
		q.w.tel.consumed(ctx, q, len(jobs))
		until := addNs(start, w.lease)
		traced, metered := w.tracing(), w.metering()
		runs = runs[:0]
		// One allocation per batch, not per job. A handler that keeps its
		// ctx keeps the batch's slab alive: bounded, and rare.
		slab := make([]run, len(jobs))
		for i, j := range jobs {
			r := &slab[i]
			r.job, r.q, r.traced, r.metered = j, q, traced, metered
			r.leaseUntil.Store(until)
			runs = append(runs, r)
		}
		q.disp.push(runs)
		clear(runs)
	}
}

func backoffStep(n int, base, cap time.Duration) time.Duration {
	if n > 20 {
		return cap
	}
	return min(base<<max(n-1, 0), cap)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (w *Worker) fetchOutage(q *wqueue, err error) {
	w.fetchOut.fail(w.log, "queue: backend failing; fetching with backoff", "worker", w.id, "queue", q.name, "err", err)
}

func (w *Worker) fetchRecovered(q *wqueue) {
	w.fetchOut.ok(w.log, "queue: backend answering again", "worker", w.id, "queue", q.name)
}

// serve is one handler goroutine: it runs jobs from the dispatcher until
// it closes (shutdown) or its run is abandoned.
func (q *wqueue) serve(s *slot) {
	me := make(chan struct{}, 1)
	for {
		r, ok := q.disp.take(me, nil)
		if !ok {
			break
		}
		if q.w.stopping.Load() {
			// Fetched but not started when shutdown began: back at once.
			q.w.send(Outcome{Job: r.job, Kind: Release}, r.leaseUntil.Load())
			q.finished()
			continue
		}
		if !q.process(q.w.base, s, r) {
			return // abandoned: the Worker replaced this goroutine and no longer waits for it
		}
	}
	q.w.handlers.Done()
}

// process runs one job; false when its run was abandoned while it ran.
func (q *wqueue) process(base context.Context, s *slot, r *run) bool {
	w := q.w
	j := r.job
	hd := w.h.get(j.Kind)
	if hd == nil {
		oc := outcomeOf(j, nil, nil, w.now, w.rnd)
		w.send(oc, r.leaseUntil.Load())
		q.finished()
		s.counts[Dead].Add(1)
		w.tel.recordOutcome(q, j.Kind, Dead, 0)
		return true
	}
	r.hd = hd
	start := w.mono()
	r.timeout = timeoutOf(j, hd)
	r.deadlineNs = addNs(start, r.timeout)
	r.deadline = w.epoch.Add(time.Duration(r.deadlineNs))
	r.values = base
	var span trace.Span
	if r.traced {
		r.values, span = w.startSpan(base, q, j)
	}
	// Done attempts are timed when sampled, decided now, as the attempt
	// starts: unbiased by duration (decided at the end, a slow attempt's
	// start lies behind a limiter that filled meanwhile, and every attempt
	// slower than the burst would be refused); failed ones always.
	sampled := r.metered && q.tel.sample(start)
	r.state.Store(runRunning)
	s.cur.Store(r)
	w.armSweep(r.deadlineNs)
	err := hd.call(r, j, &s.ta)
	s.cur.Store(nil)
	if !r.state.CompareAndSwap(runRunning, runFinished) {
		endSpan(span, err, "abandoned")
		return false
	}
	r.cancel(whyFinished) // like the defer cancel() of context.WithTimeout
	// No second clock read for attempts not recorded.
	rec := r.metered && (err != nil || sampled)
	var end int64
	if rec {
		end = w.mono()
	}
	var oc Outcome
	switch r.why.Load() {
	case whyLeaseLost:
		// Another worker may run it now; an outcome would be refused.
		oc = Outcome{Job: j, Kind: 0}
	case whyShutdown:
		if err != nil {
			oc = Outcome{Job: j, Kind: Release}
			break
		}
		fallthrough
	default:
		oc = outcomeOf(j, hd, err, w.now, w.rnd)
	}
	if oc.Kind != 0 {
		w.send(oc, r.leaseUntil.Load())
	}
	q.finished()
	s.counts[oc.Kind].Add(1) // counts[0]: lease lost
	// Not sampled, yet not done: lease lost, or shut down without an error.
	if r.metered && !rec && oc.Kind != Done {
		rec, end = true, w.mono()
	}
	if rec {
		w.tel.recordOutcome(q, j.Kind, oc.Kind, time.Duration(end-start))
	}
	endSpan(span, err, outcomeName(oc.Kind))
	return true
}
