package lb

import (
	"fmt"
	"math"
	"time"
)

// OutlierOptions configures passive health checking: a backend failing
// Consecutive times in a row is ejected for BaseEjectionTime times the
// number of times it was ejected, capped at MaxEjectionTime (Envoy's outlier
// detection). Zero values mean Envoy's defaults.
//
// Two cases leave rotation for less long. A backend whose failures were all
// refused connections (nothing listens on its port: it is restarting) is
// ejected for one second times the number of times it was ejected, capped
// at the ejection time above: a try of a backend that still refuses costs a
// retry elsewhere that every request gets (see [RetryOptions]), while a
// restarted one is back in a second instead of 30. And a passing active
// health check ([ProbeHTTP], [Pool.Watch]) readmits a passively ejected
// backend at once, as Envoy does by default.
//
// A proxy also ejects a backend it finds hung (see RetryOptions.StallTimeout).
type OutlierOptions struct {
	// Consecutive failures (errors or 5xx) that eject a backend. Zero means
	// 5; negative disables ejection.
	Consecutive int
	// BaseEjectionTime is the first ejection's duration. Zero means 30s.
	BaseEjectionTime time.Duration
	// MaxEjectionTime caps the growing ejection time; a backend healthy for
	// that long starts again from BaseEjectionTime. Zero means 300s.
	MaxEjectionTime time.Duration
	// MaxEjectedShare caps the share of backends ejected at once, though
	// one may always be. Zero means 0.5.
	MaxEjectedShare float64
}

func (o *OutlierOptions) validate() error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: Outlier.%s %v: %s", ErrInvalidOptions, field, v, why)
	}
	switch {
	case o.BaseEjectionTime < 0:
		return bad("BaseEjectionTime", o.BaseEjectionTime, "must be ≥ 0")
	case o.MaxEjectionTime < 0:
		return bad("MaxEjectionTime", o.MaxEjectionTime, "must be ≥ 0")
	case o.MaxEjectedShare < 0 || o.MaxEjectedShare > 1 || math.IsNaN(o.MaxEjectedShare):
		return bad("MaxEjectedShare", o.MaxEjectedShare, "must be in [0, 1]")
	}
	if o.Consecutive == 0 {
		o.Consecutive = 5
	}
	if o.BaseEjectionTime == 0 {
		o.BaseEjectionTime = 30 * time.Second
	}
	if o.MaxEjectionTime == 0 {
		o.MaxEjectionTime = 300 * time.Second
	}
	if o.MaxEjectionTime < o.BaseEjectionTime {
		return bad("MaxEjectionTime", o.MaxEjectionTime, "must be ≥ BaseEjectionTime")
	}
	if o.MaxEjectedShare == 0 {
		o.MaxEjectedShare = 0.5
	}
	return nil
}

// ejectionTime is the duration of the nth ejection: n × BaseEjectionTime,
// capped at MaxEjectionTime without overflowing.
func (o *OutlierOptions) ejectionTime(n int) time.Duration {
	if time.Duration(n) > o.MaxEjectionTime/o.BaseEjectionTime {
		return o.MaxEjectionTime
	}
	return min(o.BaseEjectionTime*time.Duration(n), o.MaxEjectionTime)
}

// refusedEjectionTime is the unit of the ejection of a backend whose
// failures were all refused connections.
const refusedEjectionTime = time.Second

// stalled reports whether e is hung for a try sent at sent, now
// (monotonic): e has been silent for stall, counting from the later of the
// try's sending and e's last answer, and was sent a second try since its
// last answer, while another member answered, quickly (in less than half
// of stall), a request sent after that second try and after the silence
// began. If not, wait is how long until the silence could reach stall.
// Counting from the last answer catches the tries sent just before e froze
// as soon as the ones sent after it. The second try is the evidence that e
// had more to answer: a backend busy with one slow request at low traffic
// answers nothing meanwhile only because it was given nothing else.
func (p *Pool[T]) stalled(e *Endpoint, sent, now int64, stall time.Duration) (hung bool, wait time.Duration) {
	const slack = int64(time.Millisecond) // answeredAt lags by up to this
	answered := e.answeredAt.Load()
	silent := max(sent, answered+slack)
	if d := time.Duration(now - silent); d < stall {
		return false, stall - d
	}
	second := e.secondSent.Load()
	if second <= answered+slack || second <= e.firstSent.Load() {
		return false, stall // given nothing else to answer
	}
	if s := p.load(); s != nil {
		for _, f := range s.all {
			if f != e && f.answeredSent.Load() > max(silent, second) {
				return true, 0
			}
		}
	}
	return false, stall
}

// Reasons for an ejection, as logged.
const (
	reasonConsecutive = "consecutive failures"
	reasonHung        = "hung: answered nothing while others answered"
)

// eject removes e from traffic after consecutive failures.
func (p *Pool[T]) eject(e *Endpoint) { p.ejectFor(e, reasonConsecutive) }

// ejectFor removes e from traffic, for reason, if the ejected share allows it.
func (p *Pool[T]) ejectFor(e *Endpoint, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e.fails.Store(0)
	if e.ejected || p.closed || !p.member(e) {
		return
	}
	ejected := 0
	for _, m := range p.members {
		if m.ejected {
			ejected++
		}
	}
	limit := max(1, int(p.opts.Outlier.MaxEjectedShare*float64(len(p.members))))
	if ejected >= limit {
		return
	}
	now := p.opts.Now()
	o := p.opts.Outlier
	if !e.admitted.IsZero() && now.Sub(e.admitted) > o.MaxEjectionTime {
		e.ejections = 0
	}
	e.ejections++
	d := o.ejectionTime(e.ejections)
	if e.refusedOnly.Load() && reason == reasonConsecutive {
		d = min(d, refusedEjectionTime*time.Duration(min(e.ejections, 1000)))
		reason = "connections refused"
	}
	e.ejected, e.ejectedUntil = true, now.Add(d)
	e.ejectTimer = time.AfterFunc(d, func() { p.readmit(e) })
	p.rebuild(now)
	e.met.ejected(p.met)
	p.opts.Logger.Warn("lb: backend ejected", "backend", e.name, "reason", reason, "for", d, "ejections", e.ejections)
}

func (p *Pool[T]) readmit(e *Endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readmitLocked(e, "ejection over")
}

// readmitLocked ends e's ejection; p.mu is held.
func (p *Pool[T]) readmitLocked(e *Endpoint, reason string) {
	if !e.ejected || p.closed || !p.member(e) {
		return
	}
	if e.ejectTimer != nil {
		e.ejectTimer.Stop()
	}
	now := p.opts.Now()
	e.ejected, e.ejectTimer, e.admitted = false, nil, now
	e.fails.Store(0)
	p.rebuild(now)
	p.opts.Logger.Info("lb: backend readmitted", "backend", e.name, "reason", reason)
}

// passed readmits the passively ejected backend name after its active
// health check passed.
func (p *Pool[T]) passed(name string) {
	if s := p.load(); s == nil || !s.anyEjected {
		return // the common case: nothing ejected, no lock
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.members {
		if e.name == name && !e.down {
			p.readmitLocked(e, "active health check passed")
		}
	}
}

func (p *Pool[T]) member(e *Endpoint) bool {
	for _, m := range p.members {
		if m == e {
			return true
		}
	}
	return false
}

// SetDown marks a backend down (true) or up (false), as an active health
// check does; a backend coming up ramps through slow start. It reports
// whether the pool has a backend of that name.
func (p *Pool[T]) SetDown(name string, down bool) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.members {
		if e.name != name {
			continue
		}
		if e.down != down && !p.closed {
			now := p.opts.Now()
			e.down = down
			if !down {
				e.admitted = now
			}
			p.rebuild(now)
			p.opts.Logger.Info("lb: backend health", "backend", name, "down", down)
		}
		return true
	}
	return false
}
