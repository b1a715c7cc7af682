package lb

import (
	"fmt"
	"math"
	"time"
)

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
