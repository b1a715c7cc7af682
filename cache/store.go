package cache

import "math"

// Store holds entries for an [Aside]. Implementations bound themselves by
// entry count and optionally by total cost, and are safe for concurrent use.
// A Store never reads the clock: expiry lives in the [Entry] and is judged by
// the Aside, so a store keeps expired entries until it evicts or overwrites
// them (which is what lets the Aside serve them stale).
type Store[K comparable, V any] interface {
	// Get returns the entry for key, marking it used. Entries are immutable
	// once stored: a store hands out the pointer it was given, and callers
	// must neither modify nor copy it (a new value is a new Set).
	Get(key K) (*Entry[V], bool)
	// Set stores e under key and returns how many other entries it evicted
	// to make room. An entry whose cost exceeds the store's MaxCost is not
	// stored, any older entry for key is removed, and the error wraps
	// [ErrTooLarge].
	Set(key K, e *Entry[V]) (evicted int, err error)
	// Delete removes key and reports whether it was present.
	Delete(key K) bool
	// Len returns the number of entries held.
	Len() int
}

// Entry is what a Store holds (by pointer, so a hit copies 8 bytes): the value, its cost, and freshness metadata
// owned by the Aside (kept in the entry, so stores need no timers).
//
// A stored Entry must not be copied (go vet reports copies): stores mark it
// used with atomic writes while other goroutines read it, so a plain copy
// races with them. Build a new Entry instead.
type Entry[V any] struct {
	_     noCopy
	Value V
	// Cost counts against the store's MaxCost; values ≤ 0 count as 1.
	Cost int64

	expires   int64  // ns since the Aside's base; 0 = never
	refreshAt int64  // when refresh-ahead starts, same clock; 0 = never
	delta     int64  // how long the load took, ns (XFetch's δ)
	epoch     uint64 // Aside.Clear generation
	negative  bool   // cached "not found"
	ref       uint32 // LRU: hit since last considered for eviction (atomic; so never copy a stored Entry)
}

// noCopy makes go vet's copylocks check report copies of the struct holding it.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// StoreOptions bounds a store beyond its entry count.
type StoreOptions struct {
	// MaxCost bounds the sum of entry costs; 0 means unbounded by cost.
	MaxCost int64
}

// validate checks the arguments of the constructor of store.
func (o StoreOptions) validate(store string, size int) error {
	if size <= 0 {
		return invalid("%s: size %d: must be > 0", store, size)
	}
	if o.MaxCost < 0 {
		return invalid("%s: MaxCost %d: must be ≥ 0", store, o.MaxCost)
	}
	return nil
}

func costOf[V any](e *Entry[V]) int64 {
	if e.Cost <= 0 {
		return 1
	}
	return e.Cost
}

// bound is the count and cost accounting shared by every store.
type bound struct {
	size    int
	maxCost int64
	cost    int64
}

func (b *bound) tooLarge(c int64) bool { return b.maxCost > 0 && c > b.maxCost }

// over reports whether n entries of total cost b.cost+extra overflow the bound.
// Stores keep b.cost ≤ b.maxCost by evicting before they add, so the
// subtraction cannot overflow where b.cost+extra could.
func (b *bound) over(n int, extra int64) bool {
	return n > b.size || (b.maxCost > 0 && extra > b.maxCost-b.cost)
}

// lruCap is the capacity given to a simplelru for a store bounded at size:
// one slot of headroom, so that it never evicts by itself, without overflowing.
func lruCap(size int) int { return min(size, math.MaxInt-1) + 1 }

// mapHint is the initial map capacity for a store bounded at size: a store
// bounded by cost may pass a huge count it will never reach.
func mapHint(size int) int { return min(size, 1024) }
