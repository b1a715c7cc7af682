package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Periodic is a job enqueued at every boundary of its Schedule. Every
// Worker configured with it enqueues it, and exactly one enqueue per
// period succeeds, without a leader: the job of boundary t carries the
// UniqueKey "periodic:<Name>:<t as Unix seconds>" (".<nanoseconds>" added
// for a boundary within a second), held past t plus the
// period, so the other Workers' enqueues are duplicates. Boundaries that
// pass while no Worker runs are skipped, not caught up.
type Periodic struct {
	Name     string   // identifies the job across instances; required
	Schedule Schedule // Every(d), ParseCron(spec), or any Next func
	Args     Kinded   // the job's arguments (encoded once per boundary)
	// Options of each job; UniqueKey, UniqueFor, Delay and RunAt must be
	// zero (the schedule sets them).
	Options EnqueueOptions
}

// Schedule gives the first boundary after t; a zero Time means no more.
// robfig/cron's Schedule satisfies it.
type Schedule interface{ Next(t time.Time) time.Time }

// Every returns a Schedule firing every d, at multiples of d since the Unix
// epoch (so every instance computes the same boundaries). d must be > 0;
// for d ≤ 0 Next returns the zero Time (NewWorker rejects it).
func Every(d time.Duration) Schedule { return every(d) }

type every time.Duration

func (e every) Next(t time.Time) time.Time {
	d := int64(e)
	if d <= 0 {
		return time.Time{}
	}
	n := t.UnixNano()
	m := n % d
	if m < 0 {
		m += d
	}
	next := n - m + d
	if next <= n { // overflow
		return time.Time{}
	}
	return time.Unix(0, next).In(t.Location())
}

func (p Periodic) validate(i int) error {
	switch {
	case p.Name == "":
		return invalid("Periodic[%d].Name: empty", i)
	case p.Schedule == nil:
		return invalid("Periodic[%d] %q: Schedule: nil", i, trunc(p.Name))
	case p.Args == nil:
		return invalid("Periodic[%d] %q: Args: nil", i, trunc(p.Name))
	case p.Options.UniqueKey != "" || p.Options.UniqueFor != 0:
		return invalid("Periodic[%d] %q: Options.UniqueKey/UniqueFor: set by the schedule, must be zero", i, trunc(p.Name))
	case p.Options.Delay != 0 || !p.Options.RunAt.IsZero():
		return invalid("Periodic[%d] %q: Options.Delay/RunAt: set by the schedule, must be zero", i, trunc(p.Name))
	}
	return nil
}

// checkPeriodic validates what needs the Worker: the options and args
// encode, and the schedule has a next boundary.
func (w *Worker) checkPeriodic() error {
	now := w.now()
	for i, p := range w.opts.Periodic {
		if _, err := w.client.newJob(p.Args, p.Options, now, ""); err != nil {
			return withPrefix("Periodic["+strconv.Itoa(i)+"] "+strconv.Quote(trunc(p.Name)), err)
		}
		if n, ok := safeNext(p.Schedule, now); !ok || !n.After(now) {
			return invalid("Periodic[%d] %q: Schedule: Next(%v) = %v, not after it", i, trunc(p.Name), now.Format(time.RFC3339), n)
		}
	}
	return nil
}

func safeNext(s Schedule, t time.Time) (n time.Time, ok bool) {
	defer func() {
		if recover() != nil {
			n, ok = time.Time{}, false
		}
	}()
	n = s.Next(t)
	return n, !n.IsZero()
}

// scheduleLoop enqueues periodic jobs at their boundaries until ctx ends.
// It sleeps at most a second at a time, so a Now that is not the real
// clock (a test's) is followed too.
func (w *Worker) scheduleLoop(ctx context.Context) {
	type entry struct {
		p       Periodic
		next    time.Time // the coming boundary
		pending time.Time // a boundary whose enqueue failed, retried within its period
		fails   int
		retryAt time.Time
	}
	now := w.now()
	es := make([]*entry, 0, len(w.opts.Periodic))
	for _, p := range w.opts.Periodic {
		n, _ := safeNext(p.Schedule, now)
		es = append(es, &entry{p: p, next: n})
	}
	for {
		wake := now.Add(time.Second)
		for _, e := range es {
			if !e.next.IsZero() && e.next.Before(wake) {
				wake = e.next
			}
			if !e.pending.IsZero() && e.retryAt.Before(wake) {
				wake = e.retryAt
			}
		}
		sleepCtx(ctx, max(wake.Sub(now), time.Millisecond))
		if ctx.Err() != nil {
			return
		}
		now = w.now()
		for _, e := range es {
			// The clock stepped back: the boundary to wait for is the
			// next one of the clock as it reads now, not the one
			// computed before the step.
			if n, ok := safeNext(e.p.Schedule, now); ok && n.Before(e.next) {
				e.next = n
			}
			if !e.next.IsZero() && !e.next.After(now) {
				e.pending, e.fails, e.retryAt = e.next, 0, now
				n, ok := safeNext(e.p.Schedule, now)
				if !ok || !n.After(now) {
					w.log.Error("queue: periodic schedule has no next boundary; stopping it", "worker", w.id, "periodic", e.p.Name)
					n = time.Time{}
				}
				e.next = n
			}
			if e.pending.IsZero() || now.Before(e.retryAt) {
				continue
			}
			err := w.enqueuePeriodic(ctx, e.p, e.pending, now)
			if err == nil {
				e.pending = time.Time{}
				continue
			}
			if ctx.Err() != nil {
				return
			}
			e.fails++
			period := periodOf(e.p.Schedule, e.pending)
			if !now.Before(e.pending.Add(period)) {
				w.log.Error("queue: periodic job not enqueued for its period", "worker", w.id, "periodic", e.p.Name,
					"boundary", e.pending, "err", err)
				e.pending = time.Time{}
				continue
			}
			w.log.Warn("queue: periodic enqueue failed; retrying", "worker", w.id, "periodic", e.p.Name, "err", err)
			e.retryAt = now.Add(backoffStep(e.fails, 100*time.Millisecond, 10*time.Second))
		}
	}
}

// periodOf is the length of the period starting at boundary t.
func periodOf(s Schedule, t time.Time) time.Duration {
	n, ok := safeNext(s, t)
	if !ok || !n.After(t) {
		return time.Minute
	}
	return n.Sub(t)
}

// periodicKey is the unique key of boundary t: "periodic:<name>:<t as
// Unix seconds>", with ".<nanoseconds>" after the seconds when t is not on
// a whole second (a period under a second has several boundaries per
// second; whole-second keys stay as they were).
func periodicKey(name string, t time.Time) string {
	k := "periodic:" + name + ":" + strconv.FormatInt(t.Unix(), 10)
	if ns := t.Nanosecond(); ns != 0 {
		k += fmt.Sprintf(".%09d", ns)
	}
	return k
}

// enqueuePeriodic enqueues the job of boundary t, unique for its period.
func (w *Worker) enqueuePeriodic(ctx context.Context, p Periodic, t, now time.Time) error {
	period := periodOf(p.Schedule, t)
	o := p.Options
	o.UniqueKey = periodicKey(p.Name, t)
	// Held past the end of the period (and a period more, against clock
	// skew between instances), counted from now, which may be late.
	o.UniqueFor = max(t.Add(2*period).Sub(now), time.Second)
	o.RunAt = t
	_, err := w.client.Enqueue(ctx, p.Args, o)
	return err
}
