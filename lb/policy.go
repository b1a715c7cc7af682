package lb

import (
	"sync/atomic"
	"time"
)

// Policy chooses among the eligible endpoints of a pool. A pool calls
// NewPicker whenever membership, health or effective weights change, never
// per request, so pickers can precompute what they need.
type Policy interface {
	NewPicker(cfg PickerConfig) Picker
}

// Picker picks one endpoint of its snapshot. It must be safe for concurrent use.
type Picker interface {
	// Pick returns an index into PickerConfig.Endpoints. key is the hash of
	// the request's key when keyed is true (see [Pool.PickKey]).
	Pick(key uint64, keyed bool) int
}

// PickerConfig is the snapshot a Picker is built for.
type PickerConfig struct {
	// Endpoints are the eligible backends in the pool's order; never empty.
	Endpoints []*Endpoint
	// Weights are the effective weights by position (slow start applied), all > 0.
	Weights []float64
	// Rand returns uniformly distributed random numbers; never nil.
	Rand func() uint64
	// Now reads the clock; never nil.
	Now func() time.Time
}

func (c PickerConfig) uniform() bool {
	for _, w := range c.Weights[1:] {
		if w != c.Weights[0] {
			return false
		}
	}
	return true
}

// latencyTracker is implemented by policies that need [Endpoint.Latency].
// observed is called with the time of every latency sample, so pickers can
// age the averages of idle endpoints without reading the clock.
type latencyTracker interface {
	decay() time.Duration
	observed(now int64)
}

// PolicyFunc adapts a function building pickers to a Policy.
type PolicyFunc func(PickerConfig) Picker

// NewPicker calls f.
func (f PolicyFunc) NewPicker(cfg PickerConfig) Picker { return f(cfg) }

// RoundRobin cycles through the endpoints in order, ignoring weights.
// It is the zero-configuration default.
func RoundRobin() Policy { return rrPolicy{} }

type rrPolicy struct{}

type rrPicker struct {
	n    uint64
	next atomic.Uint64
}

func (rrPolicy) NewPicker(cfg PickerConfig) Picker {
	p := &rrPicker{n: uint64(len(cfg.Endpoints))}
	// A random start keeps many pools built at once from moving in lockstep.
	p.next.Store(cfg.Rand() % p.n)
	return p
}

func (p *rrPicker) Pick(uint64, bool) int { return int((p.next.Add(1) - 1) % p.n) }

// Random picks an endpoint at random, in proportion to its weight.
func Random() Policy { return randomPolicy{} }

type randomPolicy struct{}

func (randomPolicy) NewPicker(cfg PickerConfig) Picker {
	if cfg.uniform() {
		return &uniformPicker{n: len(cfg.Endpoints), rand: cfg.Rand}
	}
	return newWeightedRandom(cfg)
}

type uniformPicker struct {
	n    int
	rand func() uint64
}

func (p *uniformPicker) Pick(uint64, bool) int { return bounded(p.rand(), p.n) }

// weightedRandom samples by binary search over cumulative weights.
type weightedRandom struct {
	cum   []uint64
	total uint64
	rand  func() uint64
}

func newWeightedRandom(cfg PickerConfig) *weightedRandom {
	p := &weightedRandom{cum: make([]uint64, len(cfg.Weights)), rand: cfg.Rand}
	for i, w := range cfg.Weights {
		p.total += uint64(w*1024) + 1
		p.cum[i] = p.total
	}
	return p
}

func (p *weightedRandom) sample() int {
	r := p.rand() % p.total
	lo, hi := 0, len(p.cum)-1
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if p.cum[m] > r {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func (p *weightedRandom) Pick(uint64, bool) int { return p.sample() }

// FirstAvailable sends everything to the first eligible endpoint in the
// pool's order: ordered failover to a standby.
func FirstAvailable() Policy { return firstPolicy{} }

type firstPolicy struct{}

type firstPicker struct{}

func (firstPolicy) NewPicker(PickerConfig) Picker { return firstPicker{} }

func (firstPicker) Pick(uint64, bool) int { return 0 }
