package lb

import (
	"math"
	"sync/atomic"
)

// HashOptions configures [Hash].
type HashOptions struct {
	// RendezvousMax is ignored.
	//
	// Deprecated: every pool now uses weighted rendezvous hashing for its
	// whole life, whatever its size and weights: switching to a Maglev
	// table past a size or on unequal weights moved most keys.
	RendezvousMax int
}

// Hash sends equal keys to the same endpoint and, when the pool changes,
// moves only the keys it must (consistent hashing): when an endpoint
// arrives only keys moving to it move, when one leaves only its keys move,
// and when one's weight grows (shrinks) only keys moving to it (away from
// it) move, exactly its change of share. Keys come from [Pool.PickKey] (a
// client IP, a header, a cookie, any string); picks without a key are
// random, in proportion to weight.
//
// The algorithm is weighted rendezvous hashing (Schindelhauer and Schomaker,
// 2005): a key goes to the endpoint with the highest weight/-ln(h), h the
// hash of key and endpoint name in (0, 1), one rule for any pool size or
// weights, so the guarantees above are exact, not approximate as with a
// Maglev table or a ring. To keep picks O(1), keys are first hashed onto
// 65536 fixed slots (the same for the pool's life) and each snapshot
// remembers the owner of a slot once computed: a pick reads one table
// entry, and the first pick of a slot after a change in membership or
// health computes its owner once, in O(endpoints). Slots make shares
// coarser: an endpoint's share of keys strays from its weight's share by
// about √(n/65536) of it (a standard deviation of 4% for 100 endpoints,
// 12% for 1000).
//
// Hash uses the configured weights and ignores slow start, as Envoy's ring
// hash and Maglev do: ramping a newcomer's weight would move keys to it
// gradually but also, on a weight change, take keys away and bring them
// back. A newcomer receives its keys at once.
func Hash(opts HashOptions) Policy {
	return hashPolicy{}
}

type hashPolicy struct{}

// hashSlots is the number of slots keys are hashed onto; it never changes,
// so neither does a key's slot.
const hashSlots = 1 << 16

func (hashPolicy) NewPicker(cfg PickerConfig) Picker {
	r := &rendezvous{eps: cfg.Endpoints, invWeight: make([]float64, len(cfg.Endpoints)), rand: cfg.Rand}
	for i, e := range cfg.Endpoints {
		r.invWeight[i] = 1 / max(e.weight, 1)
	}
	if len(cfg.Endpoints) > 1 {
		r.owner = make([]atomic.Int32, hashSlots)
	}
	return r
}

type rendezvous struct {
	eps       []*Endpoint
	invWeight []float64
	// owner is 1 + the index of each slot's endpoint, 0 until computed.
	owner []atomic.Int32
	rand  func() uint64
}

func (r *rendezvous) Pick(key uint64, keyed bool) int {
	if r.owner == nil {
		return 0
	}
	if !keyed {
		key = r.rand() // a random slot: picks in proportion to weight
	}
	slot := key >> 48
	if o := r.owner[slot].Load(); o > 0 {
		return int(o - 1)
	}
	i := r.winner(slot)
	r.owner[slot].Store(int32(i + 1))
	return i
}

// winner is the endpoint with the highest weight/-ln(h), computed as the
// lowest -ln(h)/weight; h is uniform in (0, 1) per slot and endpoint.
func (r *rendezvous) winner(slot uint64) int {
	best, top := 0, math.Inf(1)
	seed := mix64(slot + 0x9e3779b97f4a7c15)
	for i, e := range r.eps {
		h := mix64(seed ^ e.hash)
		u := (float64(h>>11) + 0.5) * 0x1p-53
		if s := -math.Log(u) * r.invWeight[i]; s < top || (s == top && e.hash < r.eps[best].hash) {
			best, top = i, s
		}
	}
	return best
}
