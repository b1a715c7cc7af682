package lb

import (
	"math"
	"sync"
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
// entry. The first pick of a slot in a new pool computes its owner in
// O(endpoints); after a change in membership or health, a slot whose owner
// is still there is only compared with the endpoints that arrived, and
// when none did the owners are copied with the snapshot. Slots make shares
// coarser: an endpoint's share of keys strays from its weight's share by
// about √(n/65536) of it (a standard deviation of 4% for 100 endpoints,
// 12% for 1000).
//
// Hash uses the configured weights and ignores slow start, as Envoy's ring
// hash and Maglev do: ramping a newcomer's weight would move keys to it
// gradually but also, on a weight change, take keys away and bring them
// back. A newcomer receives its keys at once.
//
// A Hash value remembers the last picker it built per zone, for the next
// one to inherit from: give each pool its own.
func Hash(opts HashOptions) Policy {
	return &hashPolicy{last: map[string]*rendezvous{}}
}

// hashPolicy remembers the last picker it built per zone, so that the next
// one, built after a change, inherits the owners that cannot have changed.
type hashPolicy struct {
	mu   sync.Mutex
	last map[string]*rendezvous
}

// hashSlots is the number of slots keys are hashed onto; it never changes,
// so neither does a key's slot.
const hashSlots = 1 << 16

func (h *hashPolicy) NewPicker(cfg PickerConfig) Picker {
	r := &rendezvous{eps: cfg.Endpoints, invWeight: make([]float64, len(cfg.Endpoints)), rand: cfg.Rand}
	for i, e := range cfg.Endpoints {
		r.invWeight[i] = 1 / max(e.weight, 1)
	}
	if len(cfg.Endpoints) <= 1 {
		return r
	}
	r.owner = make([]atomic.Int32, hashSlots)
	zone := cfg.Endpoints[0].zone
	h.mu.Lock()
	prev := h.last[zone]
	h.last[zone] = r
	h.mu.Unlock()
	if prev != nil && prev.owner != nil {
		r.inherit(prev)
	}
	return r
}

// inherit takes over prev's known owners. An endpoint keeps its identity
// (*Endpoint) only while its name, weight and zone stay, so a slot whose
// owner is still here keeps it unless an endpoint new to this picker beats
// it: with no newcomer the owner is copied now, otherwise the first pick of
// the slot compares the owner with the newcomers only.
func (r *rendezvous) inherit(prev *rendezvous) {
	at := make(map[*Endpoint]int32, len(r.eps))
	for i, e := range r.eps {
		at[e] = int32(i)
	}
	r.prevAt = make([]int32, len(prev.eps))
	for i, e := range prev.eps {
		j, ok := at[e]
		if !ok {
			j = -1
		}
		r.prevAt[i] = j
		delete(at, e)
	}
	for _, j := range at {
		r.newcomers = append(r.newcomers, int(j))
	}
	if len(r.newcomers) > 0 {
		r.prev = prev.owner
		return
	}
	for s := range r.owner {
		if o := prev.owner[s].Load(); o > 0 {
			if j := r.prevAt[o-1]; j >= 0 {
				r.owner[s].Store(j + 1)
			}
		}
	}
	r.prevAt = nil
}

type rendezvous struct {
	eps       []*Endpoint
	invWeight []float64
	// owner is 1 + the index of each slot's endpoint, 0 until computed.
	owner []atomic.Int32
	rand  func() uint64
	// prev is the owner table of the picker this one followed, prevAt maps
	// its indexes to this one's (-1: gone), newcomers are the indexes of the
	// endpoints it did not have; nil when there was no predecessor or every
	// owner could be copied at once.
	prev      []atomic.Int32
	prevAt    []int32
	newcomers []int
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
	i := r.compute(slot)
	r.owner[slot].Store(int32(i + 1))
	return i
}

// compute finds a slot's owner: from the predecessor's owner and the
// newcomers when the predecessor knew it and it is still here, otherwise
// among all endpoints.
func (r *rendezvous) compute(slot uint64) int {
	seed := mix64(slot + 0x9e3779b97f4a7c15)
	if r.prev != nil {
		if o := r.prev[slot].Load(); o > 0 {
			if best := int(r.prevAt[o-1]); best >= 0 {
				top := r.score(seed, best)
				for _, i := range r.newcomers {
					if s := r.score(seed, i); s < top || (s == top && r.eps[i].hash < r.eps[best].hash) {
						best, top = i, s
					}
				}
				return best
			}
		}
	}
	best, top := 0, math.Inf(1)
	for i, e := range r.eps {
		if s := r.score(seed, i); s < top || (s == top && e.hash < r.eps[best].hash) {
			best, top = i, s
		}
	}
	return best
}

// score is -ln(h)/weight of endpoint i for the slot of seed, h uniform in
// (0, 1): the owner has the lowest, that is the highest weight/-ln(h).
func (r *rendezvous) score(seed uint64, i int) float64 {
	h := mix64(seed ^ r.eps[i].hash)
	u := (float64(h>>11) + 0.5) * 0x1p-53
	return -math.Log(u) * r.invWeight[i]
}
