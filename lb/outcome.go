package lb

import (
	"context"
	"errors"
	"time"
)

// epoch anchors monotonic; time.Since reads only the monotonic clock,
// about half the cost of time.Now.
var epoch = time.Now()

func monotonic() int64 { return int64(time.Since(epoch)) }

// finish is every endpoint's done callback; mode is what its pick counted.
func (p *Pool[T]) finish(e *Endpoint, o Outcome, mode int) {
	if mode == modeTracked || mode == modeCounted {
		e.end()
	}
	failed := p.isFailure(o)
	if p.invDecay > 0 && o.Latency > 0 {
		now := p.clock()
		e.observe(o.Latency, now, p.invDecay)
		p.tracker.observed(now)
	}
	if failed {
		n := e.fails.Add(1)
		if ref := refused(o.Err); n == 1 {
			e.refusedOnly.Store(ref)
		} else if !ref && e.refusedOnly.Load() {
			e.refusedOnly.Store(false)
		}
		if p.opts.Outlier.Consecutive > 0 && int(n) >= p.opts.Outlier.Consecutive {
			p.eject(e)
		}
	} else if e.fails.Load() != 0 {
		e.fails.Store(0)
	}
	if (mode == modeCounted || mode == modeStarted) && failed {
		e.errors.Add(1)
	}
}

func (p *Pool[T]) isFailure(o Outcome) bool {
	switch {
	case p.opts.IsFailure != nil:
		return p.hookFailure(o)
	case o.Err == nil: // the common case, inlined
		return o.Status >= 500
	}
	return IsFailure(o)
}

// IsFailure is the default classification of an outcome: an error other
// than a cancelled or expired context, or a status ≥ 500.
func IsFailure(o Outcome) bool {
	if o.Err != nil {
		return !errors.Is(o.Err, context.Canceled) && !errors.Is(o.Err, context.DeadlineExceeded)
	}
	return o.Status >= 500
}
