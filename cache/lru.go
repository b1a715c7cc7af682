package cache

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// LRU evicts the least recently used entry. It suits workloads with plain
// temporal locality and drifting popularity; [TinyLFU], the default, beats
// it on every stream of bench/cmd/hitratio but the search-style one (where
// LRU is up to 0.6 points ahead, and ARC 2.5) at about the same hit cost.
//
// The list and its eviction are golang-lru's simplelru, changed only under
// the store's lock. Hits do not take that lock and write nothing shared, so
// readers on different cores do not pass cache lines between them: a hit
// reads a concurrent index (a sync.Map kept in step with the list by every
// write) and marks the entry referenced (a store only on the entry's first
// hit since it was last considered for eviction). Recency is then applied
// when room is needed, as the CLOCK algorithm does (second chance): the
// oldest entry, if referenced since it was last considered, is moved to the
// front unmarked instead of evicted. So an entry used since the oldest
// unused one was added is never evicted before it; among used entries, order
// is by when they were last given their second chance rather than by their
// last hit. This is the approximation operating-system page caches and
// PostgreSQL's buffer manager make. On the traces in bench/ its hit ratio
// is at or slightly above exact LRU's (bench/RESULTS.md), and it
// turns a hit into a map read. The price is memory: the index holds each
// key a second time, about 110 bytes per entry beyond simplelru's own ~100
// (int keys on amd64, values not counted).
//
// Build one with [NewLRU]; the zero value is not usable.
type LRU[K comparable, V any] struct {
	_  [64]byte // the lock shares no cache line with data hits read
	mu sync.Mutex
	l  *simplelru.LRU[K, *Entry[V]]
	bound
	_   [64]byte
	idx *sync.Map // K → *Entry[V]: the same entries as l, for lock-free hits; its own, or shared by a Sharded's LRUs
}

var _ Store[string, int] = (*LRU[string, int])(nil)

// NewLRU returns an LRU store holding at most size entries.
func NewLRU[K comparable, V any](size int, opts StoreOptions) (*LRU[K, V], error) {
	if err := opts.validate("LRU", size); err != nil {
		return nil, err
	}
	return newLRU[K, V](size, opts, nil)
}

// newLRU builds an LRU whose index is idx, or its own if idx is nil. LRUs
// may share one index when each key belongs to exactly one of them (the
// shards of [NewShardedLRU]): a hit then needs no shard lookup.
func newLRU[K comparable, V any](size int, opts StoreOptions, idx *sync.Map) (*LRU[K, V], error) {
	// One slot of headroom: Set evicts by our bound, never by simplelru's.
	l, err := simplelru.NewLRU[K, *Entry[V]](lruCap(size), nil)
	if err != nil {
		return nil, fmt.Errorf("cache: LRU: %w", err)
	}
	if idx == nil {
		idx = new(sync.Map)
	}
	return &LRU[K, V]{l: l, bound: bound{size: size, maxCost: opts.MaxCost}, idx: idx}, nil
}

// Get returns the entry for key and marks it used.
func (s *LRU[K, V]) Get(key K) (*Entry[V], bool) { return lruHit[K, V](s.idx, key) }

// lruHit looks key up in an LRU index and marks its entry used.
func lruHit[K comparable, V any](idx *sync.Map, key K) (*Entry[V], bool) {
	v, ok := idx.Load(key)
	if !ok {
		return nil, false
	}
	e := v.(*Entry[V])
	if atomic.LoadUint32(&e.ref) == 0 { // read first: a hot entry's line stays shared
		atomic.StoreUint32(&e.ref, 1)
	}
	return e, true
}

// Set stores e as the most recently used entry, evicting the least recently used.
func (s *LRU[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	// An older entry for key leaves the list now but stays in the index
	// until the new one replaces it there, so hits never see key missing
	// in between.
	if old, had := s.l.Peek(key); had {
		s.l.Remove(key)
		s.cost -= costOf(old)
	}
	if s.tooLarge(c) {
		s.idx.Delete(key)
		return 0, fmt.Errorf("%w: LRU: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	n := 0
	// Second chance: a referenced oldest entry goes to the front unmarked.
	// Each entry is passed over at most once per call (hits may mark it
	// again meanwhile), so this ends.
	for chances := s.l.Len(); s.over(s.l.Len()+1, c); {
		k, v, ok := s.l.GetOldest()
		if !ok {
			break
		}
		if chances > 0 && atomic.LoadUint32(&v.ref) != 0 {
			atomic.StoreUint32(&v.ref, 0)
			s.l.Get(k) // to the front
			chances--
			continue
		}
		s.l.Remove(k)
		s.idx.Delete(k)
		s.cost -= costOf(v)
		n++
	}
	s.l.Add(key, e)
	s.idx.Store(key, e)
	s.cost += c
	return n, nil
}

// Delete removes key.
func (s *LRU[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.l.Peek(key)
	if ok {
		s.l.Remove(key)
		s.idx.Delete(key)
		s.cost -= costOf(v)
	}
	return ok
}

// Len returns the number of entries held.
func (s *LRU[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l.Len()
}
