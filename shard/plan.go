package shard

import (
	"cmp"
	"iter"
	"slices"
)

// PlanOptions configures [Plan].
type PlanOptions struct {
	// Keys, when set, yields the hashes of the keys to plan for (KeyString of
	// every user ID, read from the database, say): the plan is then exact for
	// that key set, with counts per (from, to). It is read once.
	Keys iter.Seq[uint64]
	// Samples is the number of evenly spread sample hashes evaluated when
	// Keys is nil and the maps are not both plain [Ranges] (whose plan is
	// computed exactly from the ranges). Zero means 2²⁰, which puts the
	// moved fraction within ±0.1% (3 standard errors) for keys whose hashes
	// are uniform, as XXH64's are. At most 2²⁸.
	Samples int
}

// Basis says what a [Reshard] was computed over.
type Basis int

const (
	// BasisRanges: both maps are range maps; the plan is exact over the
	// whole key-hash space, range by range.
	BasisRanges Basis = iota + 1
	// BasisKeys: the plan is exact over the keys given in PlanOptions.Keys.
	BasisKeys
	// BasisSample: the plan evaluates both maps on Samples hashes spread
	// evenly over the space, plus every directory override of either map;
	// fractions are estimates for a uniform key set.
	BasisSample
)

func (b Basis) String() string {
	switch b {
	case BasisRanges:
		return "ranges"
	case BasisKeys:
		return "keys"
	case BasisSample:
		return "sample"
	}
	return "unknown"
}

// Reshard is the plan of a move from one map to the next, computed before
// anything moves.
type Reshard struct {
	// From and To are the two maps' versions.
	From, To uint64
	Basis    Basis
	// Keys is the number of keys (or samples) evaluated; 0 for BasisRanges.
	Keys int
	// MovedKeys is how many of them change shard.
	MovedKeys int
	// Moved is the fraction of keys (of the hash space, for BasisRanges)
	// that changes shard: 0 for a reshard to the same topology.
	Moved float64
	// Flows has one entry per (from, to) pair of shard names that keys move
	// between, sorted by From then To.
	Flows []Flow
	// Ranges lists, for BasisRanges, every slice of the hash space that
	// changes shard, in hash order (adjacent slices with the same from and
	// to merged).
	Ranges []RangeMove
}

// Flow is the keys moving from one shard to another.
type Flow struct {
	From, To string
	// Keys is the number of keys (or samples) moving; 0 for BasisRanges.
	Keys int
	// Fraction is the share of all keys (of the hash space) moving.
	Fraction float64
}

// RangeMove is a slice [Start, End) of the key-hash space (End 0: the end
// of the space) that moves from shard From to shard To.
type RangeMove struct {
	Start, End uint64
	From, To   string
}

// Plan says how keys move when old is replaced by next: per (from, to)
// shard and in total, before anything moves. Shards are matched by name, so
// a shard kept under the same name keeps the keys both maps give it. For
// two range maps the plan is exact and lists the moving ranges; otherwise
// both maps are evaluated on opts.Keys (exact for those keys) or on a
// deterministic sample of the hash space. A row moves iff
// old.Name(h) != next.Name(h) for its key hash h: a migration copies those.
func Plan(old, next *Map, opts PlanOptions) (*Reshard, error) {
	switch {
	case old == nil:
		return nil, invalid("Plan old: nil")
	case next == nil:
		return nil, invalid("Plan next: nil")
	case old.Len() == 0 || next.Len() == 0:
		return nil, invalid("Plan: a map with no shards (%v, %v): build maps with NewMap", old, next)
	case opts.Samples < 0 || opts.Samples > 1<<28:
		return nil, invalid("Plan Samples %d: must be from 0 to 2²⁸", opts.Samples)
	}
	p := &Reshard{From: old.version, To: next.version}
	// to[i] is the number in next of old's shard i, or -1.
	to := make([]int, len(old.names))
	for i, n := range old.names {
		to[i] = next.Index(n)
	}
	or, ok1 := old.s.(*Ranges)
	nr, ok2 := next.s.(*Ranges)
	if opts.Keys == nil && ok1 && ok2 {
		p.Basis = BasisRanges
		planRanges(p, old, next, or, nr, to)
		return p, nil
	}
	flows := map[[2]int]int{}
	visit := func(h uint64) {
		p.Keys++
		i, j := old.Shard(h), next.Shard(h)
		if to[i] != j {
			p.MovedKeys++
			flows[[2]int{i, j}]++
		}
	}
	if opts.Keys != nil {
		p.Basis = BasisKeys
		for h := range opts.Keys {
			visit(h)
		}
	} else {
		p.Basis = BasisSample
		n := opts.Samples
		if n == 0 {
			n = 1 << 20
		}
		// Stratified: one pseudo-random hash in each of n equal slices of
		// the space, so range boundaries are sampled evenly and arithmetic
		// strategies (modulo) see no pattern. Deterministic: the same maps
		// give the same plan.
		step := ^uint64(0) / uint64(n)
		for i := range uint64(n) {
			visit(i*step + KeyUint64(i)%step)
		}
		for _, m := range []*Map{old, next} {
			if d, ok := m.s.(*Directory); ok {
				for h := range d.over {
					visit(h)
				}
			}
		}
	}
	if p.Keys > 0 {
		p.Moved = float64(p.MovedKeys) / float64(p.Keys)
	}
	for k, c := range flows {
		p.Flows = append(p.Flows, Flow{From: old.names[k[0]], To: next.names[k[1]], Keys: c, Fraction: float64(c) / float64(p.Keys)})
	}
	sortFlows(p.Flows)
	return p, nil
}

// planRanges diffs two range maps over the union of their boundaries.
func planRanges(p *Reshard, old, next *Map, or, nr *Ranges, to []int) {
	bounds := slices.Concat(or.starts, nr.starts)
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	flows := map[[2]int]float64{}
	for k, start := range bounds {
		var end uint64 // 0: the end of the space
		if k+1 < len(bounds) {
			end = bounds[k+1]
		}
		i, j := or.Shard(start), nr.Shard(start)
		if to[i] == j {
			continue
		}
		w := width(start, end)
		p.Moved += w
		flows[[2]int{i, j}] += w
		from, dst := old.names[i], next.names[j]
		if n := len(p.Ranges); n > 0 && p.Ranges[n-1].End == start && p.Ranges[n-1].From == from && p.Ranges[n-1].To == dst {
			p.Ranges[n-1].End = end
			continue
		}
		p.Ranges = append(p.Ranges, RangeMove{Start: start, End: end, From: from, To: dst})
	}
	for k, f := range flows {
		p.Flows = append(p.Flows, Flow{From: old.names[k[0]], To: next.names[k[1]], Fraction: f})
	}
	sortFlows(p.Flows)
}

// width is the share of the 2⁶⁴ hash space in [start, end), end 0 = 2⁶⁴.
func width(start, end uint64) float64 {
	const space = 1 << 64
	if end == 0 {
		return (space - float64(start)) / space
	}
	return float64(end-start) / space
}

func sortFlows(fs []Flow) {
	slices.SortFunc(fs, func(a, b Flow) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.To, b.To))
	})
}
