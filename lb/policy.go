package lb

import (
	"math/bits"
	"time"
)

// Policy chooses among the eligible endpoints of a pool. A pool calls
// NewPicker whenever membership, health or effective weights change, never
// per request, so pickers can precompute what they need.
type Policy interface {
	NewPicker(cfg PickerConfig) Picker
}

// Picker picks one endpoint of its snapshot. It must be safe for concurrent use.
// If a custom policy's NewPicker or Pick panics, or Pick returns an index
// out of range, the pool logs it and picks round robin among that
// snapshot's endpoints instead: a bug in a policy degrades balancing, never
// requests.
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

// loadBlind is implemented by the built-in policies that never read
// [Endpoint.InFlight], so pools using them need not count it.
type loadBlind interface{ loadBlind() }

func (rrPolicy) loadBlind()     {}
func (wrrPolicy) loadBlind()    {}
func (randomPolicy) loadBlind() {}
func (*hashPolicy) loadBlind()  {}
func (firstPolicy) loadBlind()  {}

// PolicyFunc adapts a function building pickers to a Policy.
type PolicyFunc func(PickerConfig) Picker

// NewPicker calls f.
func (f PolicyFunc) NewPicker(cfg PickerConfig) Picker { return f(cfg) }

// RoundRobin cycles through the endpoints in order, ignoring weights.
// It is the zero-configuration default. Picks made one at a time follow one
// exact cycle. Once picks collide on several cores, the picker spreads over
// 16 slots, chosen by the calling goroutine, each keeping its own cycle, as
// per-worker round robin does in Envoy and nginx: parallel picks then scale
// with cores, and over any run of picks no endpoint gets more than 17 more
// than another (one per slot, one for picks in flight while it spread).
func RoundRobin() Policy { return rrPolicy{} }

type rrPolicy struct{}

type rrPicker struct {
	mod  modulus
	next turns
}

func (rrPolicy) NewPicker(cfg PickerConfig) Picker {
	p := &rrPicker{mod: newModulus(len(cfg.Endpoints))}
	// A random start keeps many pools built at once from moving in lockstep.
	p.next.start(uint32(cfg.Rand()%uint64(len(cfg.Endpoints))) - 1) // Pick adds before reading
	return p
}

func (p *rrPicker) Pick(uint64, bool) int { return p.mod.of(p.next.next()) }

// picks implements pickCounter: the turns handed out are the picks.
func (p *rrPicker) picks(count []uint64) { p.next.picks(count) }

// modulus computes x mod n by multiplication (Lemire, Kaser and Kurz,
// "Faster remainder by direct computation", 2019): a 64-bit division costs
// more than the rest of a round robin pick. When the 32-bit counter wraps,
// once every 4 billion picks, the cycle skips ahead; nothing else changes.
type modulus struct {
	m uint64
	n uint32
}

func newModulus(n int) modulus {
	return modulus{m: ^uint64(0)/uint64(n) + 1, n: uint32(n)}
}

func (d modulus) of(x uint32) int {
	hi, _ := bits.Mul64(d.m*uint64(x), uint64(d.n))
	return int(hi)
}

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

// weightedRandom samples in proportion to weight in O(1) with Vose's alias
// method: one random number picks a column, and a coin decides between the
// column's endpoint and its alias.
type weightedRandom struct {
	prob  []uint64 // threshold out of 1<<32
	alias []int32
	rand  func() uint64
}

func newWeightedRandom(cfg PickerConfig) *weightedRandom {
	n := len(cfg.Weights)
	p := &weightedRandom{prob: make([]uint64, n), alias: make([]int32, n), rand: cfg.Rand}
	sum := 0.0
	for _, w := range cfg.Weights {
		sum += w
	}
	scaled := make([]float64, n)
	var small, large []int
	for i, w := range cfg.Weights {
		scaled[i] = w * float64(n) / sum
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small, large = small[:len(small)-1], large[:len(large)-1]
		p.prob[s], p.alias[s] = uint64(scaled[s]*(1<<32)), int32(l)
		scaled[l] += scaled[s] - 1
		if scaled[l] < 1 {
			small = append(small, l)
		} else {
			large = append(large, l)
		}
	}
	for _, i := range append(small, large...) { // 1 up to rounding
		p.prob[i], p.alias[i] = 1<<32, int32(i)
	}
	return p
}

func (p *weightedRandom) sample() int { return p.sampleFrom(p.rand()) }

// sampleFrom draws with r: its high half picks the column, its low half tosses the coin.
func (p *weightedRandom) sampleFrom(r uint64) int {
	i := bounded(r, len(p.prob))
	if r&(1<<32-1) < p.prob[i] {
		return i
	}
	return int(p.alias[i])
}

func (p *weightedRandom) Pick(uint64, bool) int { return p.sample() }

// FirstAvailable sends everything to the first eligible endpoint in the
// pool's order: ordered failover to a standby.
func FirstAvailable() Policy { return firstPolicy{} }

type firstPolicy struct{}

type firstPicker struct{}

func (firstPolicy) NewPicker(PickerConfig) Picker { return firstPicker{} }

func (firstPicker) Pick(uint64, bool) int { return 0 }
