package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// settleBatch bounds the outcomes of one Settle call; outboxMax bounds the
// outcomes waiting for the settler (handlers wait beyond it: backpressure
// while the backend is down).
const (
	settleBatch = 256
	outboxMax   = 8 * settleBatch
)

// outbox collects outcomes for the settler: appending costs a handler one
// uncontended-most-of-the-time lock, and wakes the settler only when it is
// idle. The settler takes everything waiting at once, so a lone outcome is
// settled at once (no added latency) and a busy worker settles hundreds per
// call.
type outbox struct {
	mu      sync.Mutex
	buf     []pending
	idle    bool          // the settler waits on wake
	wake    chan struct{} // cap 1
	room    chan struct{} // closed when the settler takes a full buffer
	waiters int
	closed  bool
}

// send hands an outcome to the settler.
func (w *Worker) send(oc Outcome, leaseUntil int64) {
	o := &w.out
	o.mu.Lock()
	for len(o.buf) >= outboxMax && !o.closed {
		if o.room == nil {
			o.room = make(chan struct{})
		}
		room := o.room
		o.waiters++
		o.mu.Unlock()
		<-room
		o.mu.Lock()
		o.waiters--
	}
	o.buf = append(o.buf, pending{oc: oc, leaseUntil: leaseUntil})
	wake := o.idle
	o.idle = false
	o.mu.Unlock()
	if wake {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

// closeOutbox lets the settler return once it has applied what is left.
func (w *Worker) closeOutbox() {
	o := &w.out
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// settleLoop applies outcomes in batches until the outbox is closed and
// empty.
func (w *Worker) settleLoop(bg context.Context) {
	o := &w.out
	var spare []pending
	ocs := make([]Outcome, 0, settleBatch)
	for {
		o.mu.Lock()
		for len(o.buf) == 0 {
			if o.closed {
				o.mu.Unlock()
				return
			}
			o.idle = true
			o.mu.Unlock()
			<-o.wake
			o.mu.Lock()
		}
		batch := o.buf
		o.buf = spare[:0]
		if o.room != nil {
			close(o.room)
			o.room = nil
		}
		o.mu.Unlock()
		for i := 0; i < len(batch); i += settleBatch {
			w.flush(bg, batch[i:min(i+settleBatch, len(batch))], ocs)
		}
		clear(batch)
		spare = batch
	}
}

// flush settles batch, retrying the call with backoff while the backend
// fails, for as long as the leases may still be held: an outcome whose
// lease ran out is dropped (the job runs again elsewhere; nothing
// acknowledged is lost).
func (w *Worker) flush(bg context.Context, batch []pending, ocs []Outcome) {
	for attempt := 1; ; attempt++ {
		now := w.mono()
		ocs = ocs[:0]
		for _, p := range batch {
			if now < p.leaseUntil {
				ocs = append(ocs, p.oc)
			}
		}
		if len(ocs) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(bg, max(w.lease/3, time.Second))
		errs, err := w.b.Settle(ctx, ocs)
		cancel()
		if err == nil && len(errs) != len(ocs) {
			err = fmt.Errorf("queue: settle: backend returned %d results for %d outcomes", len(errs), len(ocs))
		}
		if err == nil {
			w.settleOut.ok(w.log, "queue: settling outcomes again", "worker", w.id)
			for i, e := range errs {
				if e == nil {
					continue
				}
				j := ocs[i].Job
				if errors.Is(e, ErrLeaseLost) {
					w.log.Debug("queue: outcome refused: lease lost", "worker", w.id, "queue", j.Queue, "job", j.ID)
					continue
				}
				w.log.Error("queue: outcome refused", "worker", w.id, "queue", j.Queue, "job", j.ID, "err", e)
			}
			clear(ocs)
			return
		}
		w.settleOut.fail(w.log, "queue: settle failing; retrying with backoff", "worker", w.id, "err", err)
		// Keep only what is still pending, then wait.
		n := len(batch)
		if batch = keepLive(batch, w.mono()); len(batch) < n {
			w.log.Warn("queue: outcomes dropped: their leases ran out while the backend failed; the jobs will run again",
				"worker", w.id, "outcomes", n-len(batch))
		}
		if len(batch) == 0 {
			return
		}
		time.Sleep(backoffStep(attempt, 10*time.Millisecond, time.Second))
	}
}

func keepLive(batch []pending, now int64) []pending {
	out := batch[:0]
	for _, p := range batch {
		if now < p.leaseUntil {
			out = append(out, p)
		}
	}
	return out
}
