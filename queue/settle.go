package queue

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// settleBatch bounds the outcomes of one Settle call.
const settleBatch = 256

// settleLoop applies outcomes in batches: it blocks for the first one, then
// takes whatever else is already waiting (up to settleBatch) and settles at
// once, so a lone outcome is never held back for company and a busy worker
// settles hundreds per call. It returns when the channel is closed and
// drained.
func (w *Worker) settleLoop(bg context.Context) {
	batch := make([]pending, 0, settleBatch)
	ocs := make([]Outcome, 0, settleBatch)
	for p := range w.outcomes {
		batch = append(batch[:0], p)
	more:
		for len(batch) < settleBatch {
			select {
			case p, ok := <-w.outcomes:
				if !ok {
					break more
				}
				batch = append(batch, p)
			default:
				break more
			}
		}
		w.flush(bg, batch, ocs)
		clear(batch)
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
