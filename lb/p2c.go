package lb

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// LeastRequest picks two endpoints at random and sends the request to the one
// with fewer requests in flight relative to its weight (Envoy's least
// request, power of two choices). With unequal weights both candidates are
// drawn in proportion to weight, so an idle pool still follows the weights
// and a busy one balances in-flight per unit of weight, without bursts.
func LeastRequest() Policy { return leastPolicy{} }

type leastPolicy struct{}

func (leastPolicy) NewPicker(cfg PickerConfig) Picker {
	switch {
	case len(cfg.Endpoints) == 1:
		return firstPicker{}
	case cfg.uniform():
		return &p2cPicker{eps: cfg.Endpoints, rand: cfg.Rand}
	}
	return &weightedP2C{wr: newWeightedRandom(cfg), eps: cfg.Endpoints, w: cfg.Weights}
}

type p2cPicker struct {
	eps  []*Endpoint
	rand func() uint64
}

// two draws two distinct indexes in [0, n) from one random number.
func two(r uint64, n int) (int, int) {
	i := bounded(r, n)
	j := bounded(r<<32, n-1)
	if j >= i {
		j++
	}
	return i, j
}

func (p *p2cPicker) Pick(uint64, bool) int {
	i, j := two(p.rand(), len(p.eps))
	if p.eps[j].flow.inflight() < p.eps[i].flow.inflight() {
		return j
	}
	return i
}

type weightedP2C struct {
	wr  *weightedRandom
	eps []*Endpoint
	w   []float64
}

func (p *weightedP2C) Pick(uint64, bool) int {
	r := p.wr.rand()
	i, j := p.wr.sampleFrom(r), p.wr.sampleFrom(mix64(r)) // one draw, two independent samples
	if float64(p.eps[j].flow.inflight())*p.w[i] < float64(p.eps[i].flow.inflight())*p.w[j] {
		return j
	}
	return i
}

// PeakEWMAOptions configures [PeakEWMA].
type PeakEWMAOptions struct {
	// Decay is the time constant of the moving average: a latency spike is
	// forgotten to 1/e after Decay. Zero means 10s (Finagle's default);
	// negative is an error.
	Decay time.Duration
	// Penalty is the cost assumed for an endpoint with requests in flight
	// and no latency measured yet. Zero means 1s; negative is an error.
	Penalty time.Duration
}

// PeakEWMA is latency-aware power of two choices (Finagle, Linkerd, Kratos):
// of two random endpoints it picks the one with the lower cost, its
// peak-sensitive moving average of latency times its requests in flight
// plus one, divided by its weight. A slow backend quickly loses traffic.
// Latency comes from [Outcome.Latency]. Give each pool its own PeakEWMA
// value: it keeps the time of the latest sample.
// Negative options make [NewPool] fail with [ErrInvalidOptions].
func PeakEWMA(opts PeakEWMAOptions) Policy {
	var err error
	switch {
	case opts.Decay < 0:
		err = fmt.Errorf("%w: PeakEWMA.Decay %v: must be ≥ 0", ErrInvalidOptions, opts.Decay)
	case opts.Penalty < 0:
		err = fmt.Errorf("%w: PeakEWMA.Penalty %v: must be ≥ 0", ErrInvalidOptions, opts.Penalty)
	}
	if opts.Decay <= 0 {
		opts.Decay = 10 * time.Second
	}
	if opts.Penalty <= 0 {
		opts.Penalty = time.Second
	}
	return &ewmaPolicy{opts: opts, err: err}
}

// validate reports the options error PeakEWMA found, for NewPool.
func (p *ewmaPolicy) validate() error { return p.err }

type ewmaPolicy struct {
	opts PeakEWMAOptions
	err  error // invalid options, reported by NewPool
	// now is the time of the latest sample, in unix nanoseconds: the
	// pickers' clock for aging the averages of endpoints left idle.
	now atomic.Int64
}

func (p *ewmaPolicy) decay() time.Duration { return p.opts.Decay }

// observed advances the pickers' clock, at most once a millisecond so that
// parallel picks do not fight over its cache line.
func (p *ewmaPolicy) observed(now int64) {
	if now-p.now.Load() >= int64(time.Millisecond) {
		p.now.Store(now)
	}
}

func (p *ewmaPolicy) NewPicker(cfg PickerConfig) Picker {
	if len(cfg.Endpoints) == 1 {
		return firstPicker{}
	}
	inv := make([]float64, len(cfg.Weights))
	for i, w := range cfg.Weights {
		inv[i] = 1 / w
	}
	return &ewmaPicker{eps: cfg.Endpoints, inv: inv, rand: cfg.Rand, penalty: float64(p.opts.Penalty),
		now: &p.now, invDecay: 1 / float64(p.opts.Decay)}
}

type ewmaPicker struct {
	eps      []*Endpoint
	inv      []float64
	rand     func() uint64
	penalty  float64
	now      *atomic.Int64
	invDecay float64 // 1/decay in 1/ns
}

// cost is the endpoint's average latency, aged toward zero for the time it
// has gone without a sample (so a backend that was slow is tried again once
// it has rested, as in Finagle), times its requests in flight plus one.
func (p *ewmaPicker) cost(i int, now int64) float64 {
	e := p.eps[i]
	lat := math.Float64frombits(e.ewma.Load())
	if idle := now - e.ewmaStamp.Load(); idle > 0 && lat != 0 {
		lat *= expNeg(float64(idle) * p.invDecay)
	}
	n := float64(e.flow.inflight())
	if lat == 0 && n != 0 {
		return (p.penalty + n) * p.inv[i]
	}
	return lat * (n + 1) * p.inv[i]
}

func (p *ewmaPicker) Pick(uint64, bool) int {
	i, j := two(p.rand(), len(p.eps))
	now := p.now.Load()
	if p.cost(j, now) < p.cost(i, now) {
		return j
	}
	return i
}
