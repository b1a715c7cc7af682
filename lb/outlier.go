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

// SlowStartOptions ramps up the traffic of a backend that joins the pool or
// comes back healthy, so a cold cache or JIT is not flooded: its weight is
// scaled by max(MinWeight, (t/Window)^(1/Aggression)) during Window
// (Envoy's slow start). It applies to weighted policies.
type SlowStartOptions struct {
	// Window is the ramp-up duration; zero disables slow start.
	Window time.Duration
	// Aggression shapes the ramp: 1 is linear, larger ramps faster early.
	// Zero means 1.
	Aggression float64
	// MinWeight is the smallest weight factor. Zero means 0.1.
	MinWeight float64
}

func (o *SlowStartOptions) validate() error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: SlowStart.%s %v: %s", ErrInvalidOptions, field, v, why)
	}
	switch {
	case o.Window < 0:
		return bad("Window", o.Window, "must be ≥ 0")
	case o.Aggression < 0 || math.IsNaN(o.Aggression) || math.IsInf(o.Aggression, 0):
		return bad("Aggression", o.Aggression, "must be > 0")
	case o.MinWeight < 0 || o.MinWeight > 1 || math.IsNaN(o.MinWeight):
		return bad("MinWeight", o.MinWeight, "must be in [0, 1]")
	}
	if o.Aggression == 0 {
		o.Aggression = 1
	}
	if o.MinWeight == 0 {
		o.MinWeight = 0.1
	}
	return nil
}

// factor returns the weight factor of a backend admitted at since, and
// whether it is still ramping.
func (o *SlowStartOptions) factor(since, now time.Time) (float64, bool) {
	if o.Window <= 0 || since.IsZero() {
		return 1, false
	}
	t := max(0, now.Sub(since)) // a clock read behind the admission is its start
	if t >= o.Window {
		return 1, false
	}
	f := math.Pow(float64(t)/float64(o.Window), 1/o.Aggression)
	return math.Max(o.MinWeight, f), true
}

// scheduleTick rebuilds the snapshot ten times per slow start window while
// a backend ramps up; p.mu is held.
func (p *Pool[T]) scheduleTick() {
	if p.tick != nil || p.closed {
		return
	}
	p.tick = time.AfterFunc(p.opts.SlowStart.Window/10, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.tick = nil
		if !p.closed {
			p.rebuild(p.opts.Now())
		}
	})
}

// eject removes e from traffic if the ejected share allows it.
func (p *Pool[T]) eject(e *Endpoint) {
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
	e.ejected, e.ejectedUntil = true, now.Add(d)
	e.ejectTimer = time.AfterFunc(d, func() { p.readmit(e) })
	p.rebuild(now)
	e.met.ejected(p.met)
	p.opts.Logger.Warn("lb: backend ejected", "backend", e.name, "for", d, "ejections", e.ejections)
}

func (p *Pool[T]) readmit(e *Endpoint) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !e.ejected || p.closed || !p.member(e) {
		return
	}
	now := p.opts.Now()
	e.ejected, e.ejectTimer, e.admitted = false, nil, now
	e.fails.Store(0)
	p.rebuild(now)
	p.opts.Logger.Info("lb: backend readmitted", "backend", e.name)
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
