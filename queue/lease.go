package queue

import (
	"context"
	"fmt"
	"time"
)

// mono is the Worker's internal clock: nanoseconds since NewWorker on the
// monotonic clock. Leases, deadlines and the heartbeat use it; job times
// (RunAt, retry and snooze times) use WorkerOptions.Now.
func (w *Worker) mono() int64 { return int64(time.Since(w.epoch)) }

// heartbeatLoop renews, every Lease/3, the leases of every running job of
// every queue in one Extend call, and cancels the ctx of jobs whose lease
// is lost.
func (w *Worker) heartbeatLoop(bg context.Context, stop <-chan struct{}) {
	t := time.NewTicker(w.lease / 3)
	defer t.Stop()
	var jobs []*Job
	var runs []*run
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		jobs, runs = jobs[:0], runs[:0]
		w.eachRunning(func(r *run) {
			jobs = append(jobs, r.job)
			runs = append(runs, r)
		})
		if len(runs) > 0 {
			w.extend(bg, stop, jobs, runs)
		}
		clear(runs) // let finished runs be collected
	}
}

// extend renews the leases of runs, retrying a failed call with backoff
// until it succeeds or every lease has run out (their handlers are then
// cancelled: another worker may run those jobs now).
func (w *Worker) extend(bg context.Context, stop <-chan struct{}, jobs []*Job, runs []*run) {
	for attempt := 1; ; attempt++ {
		sent := w.mono()
		ctx, cancel := context.WithTimeout(bg, w.lease/3)
		ok, err := w.b.Extend(ctx, jobs, w.lease)
		cancel()
		if err == nil && len(ok) != len(jobs) {
			err = fmt.Errorf("queue: extend: backend returned %d results for %d jobs", len(ok), len(jobs))
		}
		if err == nil {
			w.hbOut.ok(w.log, "queue: heartbeat renewing leases again", "worker", w.id)
			until := addNs(sent, w.lease)
			for i, r := range runs {
				if ok[i] {
					r.leaseUntil.Store(until)
				} else if r.state.Load() == runRunning {
					r.cancel(whyLeaseLost)
					w.log.Warn("queue: lease lost; cancelled the job's handler", "worker", w.id,
						"queue", r.q.name, "kind", r.job.Kind, "job", r.job.ID)
				}
			}
			return
		}
		w.hbOut.fail(w.log, "queue: heartbeat failing; retrying until the leases run out", "worker", w.id, "err", err)
		now, live := w.mono(), false
		for _, r := range runs {
			if r.state.Load() != runRunning {
				continue
			}
			if now >= r.leaseUntil.Load() {
				r.cancel(whyLeaseLost)
				continue
			}
			live = true
		}
		if !live {
			return
		}
		t := time.NewTimer(backoffStep(attempt, 20*time.Millisecond, w.lease/6))
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// armSweep makes sure the sweeper wakes by deadline (internal clock).
func (w *Worker) armSweep(deadline int64) {
	if next := w.nextSweep.Load(); next != 0 && deadline >= next {
		return
	}
	select {
	case w.sweepPoke <- struct{}{}:
	default:
	}
}

// sweepLoop enforces every running job's deadline with one timer: at the
// deadline it cancels the handler's ctx; if the handler has not returned
// by the deadline plus a grace, the job is settled as a timed-out attempt
// (retry or dead), its slot freed, and its goroutine abandoned. It also
// cancels handlers whose lease ran out while the heartbeat could not renew
// it.
func (w *Worker) sweepLoop(stop <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		w.nextSweep.Store(0) // "scanning": a job starting now pokes
		next := w.sweep(w.mono())
		w.nextSweep.Store(next)
		t.Reset(time.Duration(min(next-w.mono(), int64(time.Hour))))
		select {
		case <-stop:
			return
		case <-t.C:
		case <-w.sweepPoke:
		}
	}
}

func (w *Worker) sweep(now int64) (next int64) {
	next = maxInt64
	w.eachRunning(func(r *run) {
		if lu := r.leaseUntil.Load(); now >= lu {
			r.cancel(whyLeaseLost)
		} else {
			next = min(next, lu)
		}
		dl := r.deadlineNs
		if now < dl {
			next = min(next, dl)
			return
		}
		r.cancel(whyTimeout)
		grace := graceFor(r.timeout)
		if now < addNs(dl, grace) {
			next = min(next, addNs(dl, grace))
			return
		}
		if !r.state.CompareAndSwap(runRunning, runAbandoned) {
			return
		}
		err := &timeoutError{d: r.timeout}
		w.abandon(r, outcomeOf(r.job, r.hd, err, w.now, w.rnd), "timeout")
	})
	return next
}

// graceFor is how long a handler may run past its timeout, its ctx
// cancelled, before it is abandoned.
func graceFor(timeout time.Duration) time.Duration {
	return min(timeout, time.Second)
}

type timeoutError struct{ d time.Duration }

func (e *timeoutError) Error() string {
	return fmt.Sprintf("timeout: the handler did not return within %v (+%v grace) and was abandoned", e.d, graceFor(e.d))
}

func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }
