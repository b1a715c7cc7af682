package shard

import (
	"math"
	"slices"
)

// RendezvousOptions configures [NewRendezvous].
type RendezvousOptions struct {
	// Weights, when set, has one weight > 0 per shard: a shard receives keys
	// in proportion to its weight. Nil means equal weights (a faster path).
	Weights []float64
}

// Rendezvous is highest-random-weight hashing (Thaler and Ravishankar; the
// weighted form of Schindelhauer and Schomaker): every shard scores the key
// and the highest score wins. Any shard may be added or removed, and
// exactly the keys that must move do: a new shard takes its share from
// every other shard, a removed shard's keys spread over the rest, a weight
// change moves just the change of share. Scores depend on shard names, not
// positions. A lookup costs O(n) (a few ns per shard): fine up to some
// tens of shards; for more use [Maglev].
type Rendezvous struct {
	names []string
	seeds []uint64
	// weights is nil when all weights are equal.
	weights []float64
}

// NewRendezvous returns rendezvous hashing over the named shards.
func NewRendezvous(shards []string, opts RendezvousOptions) (*Rendezvous, error) {
	if err := checkNames("Rendezvous", shards); err != nil {
		return nil, err
	}
	w, err := checkWeights("Rendezvous", len(shards), opts.Weights)
	if err != nil {
		return nil, err
	}
	r := &Rendezvous{names: slices.Clone(shards), seeds: make([]uint64, len(shards)), weights: w}
	for i, s := range shards {
		r.seeds[i] = KeyString(s)
	}
	return r, nil
}

// Shard returns the shard with the highest score for h.
func (r *Rendezvous) Shard(h uint64) int {
	if r == nil || len(r.seeds) == 0 {
		return -1
	}
	bi := 0
	if r.weights == nil {
		best := mix(h, r.seeds[0])
		for i := 1; i < len(r.seeds); i++ {
			if v := mix(h, r.seeds[i]); v > best {
				best, bi = v, i
			}
		}
		return bi
	}
	// Weighted: score = w / -ln(u), u uniform in (0, 1) from the mixed hash;
	// the largest score wins with probability proportional to w.
	bs := math.Inf(-1)
	for i, s := range r.seeds {
		u := (float64(mix(h, s)>>11) + 0.5) * (1.0 / (1 << 53))
		if v := r.weights[i] / -math.Log(u); v > bs {
			bs, bi = v, i
		}
	}
	return bi
}

// Len returns the number of shards.
func (r *Rendezvous) Len() int {
	if r == nil {
		return 0
	}
	return len(r.seeds)
}

// Names returns the shard names, index = shard number.
func (r *Rendezvous) Names() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.names)
}

// checkNames rejects an empty list, empty names and duplicates.
func checkNames(what string, names []string) error {
	if len(names) == 0 {
		return invalid("%s shards: none given: need ≥ 1", what)
	}
	seen := make(map[string]int, len(names))
	for i, n := range names {
		if n == "" {
			return invalid("%s shards[%d]: empty name", what, i)
		}
		if j, dup := seen[n]; dup {
			return invalid("%s shards[%d] %q: duplicate of shards[%d]", what, i, n, j)
		}
		seen[n] = i
	}
	return nil
}

// checkWeights validates optional weights; it returns nil when they are all
// equal (or absent), so that strategies take their unweighted fast path.
func checkWeights(what string, n int, w []float64) ([]float64, error) {
	if w == nil {
		return nil, nil
	}
	if len(w) != n {
		return nil, invalid("%s Weights: %d given for %d shards", what, len(w), n)
	}
	equal := true
	for i, x := range w {
		if !(x > 0) || math.IsInf(x, 1) {
			return nil, invalid("%s Weights[%d] %v: must be > 0 and finite", what, i, x)
		}
		equal = equal && x == w[0]
	}
	if equal {
		return nil, nil
	}
	// Weights are relative: scale them by a power of two (exact, so a key's
	// placement is unchanged) to put the largest in [1, 2), so that neither
	// a rendezvous score w / -ln(u) nor Maglev's accumulated credit
	// overflows (weights near 1e308) or loses precision (subnormal ones).
	_, e := math.Frexp(slices.Max(w))
	out := make([]float64, n)
	for i, x := range w {
		out[i] = math.Ldexp(x, 1-e)
	}
	return out, nil
}
