package health

import (
	"context"
	"fmt"
	"time"
)

// Report returns the aggregate status and every check's result. In on-demand
// mode it runs the checks whose cached result has expired, concurrently,
// joining runs already in flight, and waits at most each check's Timeout. In
// background mode, or after Shutdown or Close, it only reads cached results.
//
// If ctx ends first, the checks still running are reported with their
// previous result: the caller giving up says nothing about them.
func (c *Checker) Report(ctx context.Context) Report {
	c.initOne.Do(c.init)
	list := c.snapshot()
	results := make([]CheckResult, len(list))
	waits := make([]chan struct{}, len(list))
	c.mu.Lock()
	shutdown := c.shutdown
	for i, cs := range list {
		if shutdown || c.closed || c.cfg.Interval > 0 {
			results[i] = cs.cached()
		} else {
			results[i], waits[i] = c.startLocked(cs, false)
		}
	}
	c.mu.Unlock()
	for i, ch := range waits {
		if ch != nil {
			results[i] = c.wait(ctx, list[i], ch, results[i])
		}
	}
	return Report{Status: aggregate(results, shutdown), Checks: results}
}

func (cs *checkState) cached() CheckResult {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.res
}

// startLocked starts a run of cs unless its result is fresh (and !force) or a
// run is in flight; it returns the current result and, if a run is in flight,
// the channel closed when it ends. The caller holds c.mu, which orders every
// wg.Add before Close's Wait.
func (c *Checker) startLocked(cs *checkState, force bool) (CheckResult, chan struct{}) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.running != nil {
		return cs.res, cs.running
	}
	if c.closed {
		return cs.res, nil
	}
	if !force && !cs.res.At.IsZero() && c.cfg.CacheTTL > 0 && c.cfg.Now().Sub(cs.res.At) < c.cfg.CacheTTL {
		return cs.res, nil
	}
	ch := make(chan struct{})
	cs.running = ch
	c.wg.Add(1)
	go c.execute(cs, ch)
	return cs.res, ch
}

func (c *Checker) wait(ctx context.Context, cs *checkState, ch chan struct{}, prev CheckResult) CheckResult {
	tctx, cancel := context.WithTimeout(ctx, cs.check.Timeout)
	defer cancel()
	select {
	case <-ch:
		return cs.cached()
	case <-tctx.Done():
	}
	select {
	case <-ch:
		return cs.cached()
	default:
	}
	if ctx.Err() != nil {
		return prev
	}
	// The check ignores its context: report it failing without waiting.
	return CheckResult{Name: cs.check.Name, Status: StatusDown, Critical: !cs.check.NonCritical,
		Err: fmt.Errorf("health: check %q: no result after %v: %w", cs.check.Name, cs.check.Timeout, context.DeadlineExceeded),
		At:  c.cfg.Now()}
}

// execute runs cs once, in its own goroutine, so that every caller, even one
// that gave up, shares its result.
//
// The check itself runs in a second goroutine so that one ignoring its
// context is still reported: when Timeout passes without a result, execute
// records it down ("no result after …"), wakes the callers waiting for it,
// and leaves it marked running (so no second copy piles up behind it) until
// it returns, when its own result is recorded.
func (c *Checker) execute(cs *checkState, ch chan struct{}) {
	defer c.wg.Done()
	ctx, cancel := context.WithTimeout(c.ctx, cs.check.Timeout)
	defer cancel()
	start := c.cfg.Now()
	resc := make(chan error, 1)
	c.wg.Add(1) // this goroutine is still counted: no race with Close's Wait
	go func() {
		defer c.wg.Done()
		resc <- safeCheck(ctx, cs.check.Func)
	}()
	var err error
	hung := time.NewTimer(cs.check.Timeout)
	select {
	case err = <-resc:
	case <-hung.C:
		select {
		case err = <-resc: // it did answer in time
		default:
			if c.ctx.Err() == nil {
				c.record(cs, ch, false, fmt.Errorf("no result after %v: %w", cs.check.Timeout, context.DeadlineExceeded), start, c.cfg.Now())
				ch = nil
			}
			err = <-resc
		}
	}
	hung.Stop()
	end := c.cfg.Now()
	if c.ctx.Err() != nil && err != nil && isCtxErr(err) {
		// Closed while running: a cancellation is not a result.
		cs.mu.Lock()
		cs.running = nil
		if ch != nil {
			close(ch)
		}
		cs.mu.Unlock()
		return
	}
	c.record(cs, ch, true, err, start, end)
}

// record stores one result of cs, closes ch (the run's channel, unless nil:
// already closed) and, if final, marks the run over.
func (c *Checker) record(cs *checkState, ch chan struct{}, final bool, err error, start, end time.Time) {
	st := StatusUp
	if err != nil {
		err = fmt.Errorf("health: check %q: %w", cs.check.Name, err)
		st = StatusDown
	}
	c.duration.Record(context.Background(), end.Sub(start).Seconds(), cs.sets.pick(err))
	c.status.Record(context.Background(), int64(st), cs.checkSet)
	// The result, its transition and the aggregate are updated under c.mu,
	// and the transitions queued before it is released: the next run of this
	// check can only record after that, so listeners see them in order.
	c.mu.Lock()
	cs.mu.Lock()
	from := cs.res.Status
	cs.res = CheckResult{Name: cs.check.Name, Status: st, Err: err, Critical: !cs.check.NonCritical,
		Duration: end.Sub(start), At: end}
	if final {
		cs.running = nil
	}
	if ch != nil {
		close(ch)
	}
	cs.mu.Unlock()

	var trs []Transition
	if from != st {
		trs = append(trs, Transition{Name: cs.check.Name, From: from, To: st, Err: err, At: end})
		if st == StatusDown {
			c.cfg.Logger.Warn("health: check down", "check", cs.check.Name, "err", err)
		} else {
			c.cfg.Logger.Info("health: check up", "check", cs.check.Name, "from", from.String())
		}
	}
	c.recomputeLocked(trs)
}

// recomputeLocked updates the aggregate status and delivers trs plus any
// aggregate transition, in order. It is called with c.mu held and releases it.
func (c *Checker) recomputeLocked(trs []Transition) {
	agg := c.aggregateLocked()
	if from := Status(c.agg.Load()); agg != from {
		trs = append(trs, Transition{From: from, To: agg, At: c.cfg.Now()})
		c.agg.Store(int32(agg))
	}
	if c.cfg.OnTransition == nil {
		c.mu.Unlock()
		return
	}
	c.queue = append(c.queue, trs...)
	if c.delivering || len(c.queue) == 0 {
		// The goroutine delivering will deliver these too, in order.
		c.mu.Unlock()
		return
	}
	c.delivering = true
	for len(c.queue) > 0 {
		batch := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, tr := range batch {
			c.callHook(tr)
		}
		c.mu.Lock()
	}
	c.delivering = false
	c.mu.Unlock()
}

func (c *Checker) callHook(tr Transition) {
	defer func() {
		if v := recover(); v != nil {
			c.cfg.Logger.Error("health: OnTransition panicked", "panic", &PanicError{Value: v})
		}
	}()
	c.cfg.OnTransition(tr)
}

func (c *Checker) aggregateLocked() Status {
	results := make([]CheckResult, 0, len(c.checks))
	for _, cs := range c.checks {
		results = append(results, cs.cached())
	}
	return aggregate(results, c.shutdown)
}

func severity(s Status) int {
	switch s {
	case StatusUp:
		return 0
	case StatusDegraded:
		return 1
	case StatusUnknown:
		return 2
	}
	return 3
}

func aggregate(results []CheckResult, shutdown bool) Status {
	if shutdown {
		return StatusDown
	}
	worst := StatusUp
	for _, r := range results {
		s := r.Status
		if !r.Critical {
			if s != StatusDown {
				continue
			}
			s = StatusDegraded
		}
		if severity(s) > severity(worst) {
			worst = s
		}
	}
	return worst
}

func (c *Checker) loop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		if !c.shutdown {
			for _, cs := range c.checks {
				c.startLocked(cs, true)
			}
		}
		c.mu.Unlock()
	}
}

func safeCheck(ctx context.Context, f func(context.Context) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v}
		}
	}()
	return f(ctx)
}
