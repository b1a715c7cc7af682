package cache

import (
	"fmt"
	"hash/maphash"
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
// reads a lock-free index (the open-addressing table [TinyLFU] uses, kept in
// step with the list by every write: one hash and a slot load or two) and
// marks the entry referenced (a store only on the entry's first
// hit since it was last considered for eviction). Recency is then applied
// when room is needed, as the CLOCK algorithm does (second chance): the
// oldest entry, if referenced since it was last considered, is moved to the
// front unmarked instead of evicted. So an entry used since the oldest
// unused one was added is never evicted before it; among used entries, order
// is by when they were last given their second chance rather than by their
// last hit. This is the approximation operating-system page caches and
// PostgreSQL's buffer manager make. On the traces in bench/ its hit ratio
// is at or slightly above exact LRU's (bench/RESULTS.md), and it
// turns a hit into a table read. The price is memory: the index holds each
// key a second time, in a node of its own, about 95 bytes per entry beyond
// simplelru's own ~115 (int keys on amd64, values not counted; measured at
// 1M entries).
//
// Build one with [NewLRU]; the zero value is not usable.
type LRU[K comparable, V any] struct {
	_  [64]byte // the lock shares no cache line with data hits read
	mu sync.Mutex
	l  *simplelru.LRU[K, *tnode[K, V]]
	bound
	_   [64]byte
	idx *tindex[K, V] // the same nodes as l, for lock-free hits
}

var _ Store[string, int] = (*LRU[string, int])(nil)

// NewLRU returns an LRU store holding at most size entries.
func NewLRU[K comparable, V any](size int, opts StoreOptions) (*LRU[K, V], error) {
	if err := opts.validate("LRU", size); err != nil {
		return nil, err
	}
	return newLRU[K, V](size, opts, maphash.MakeSeed())
}

// newLRU builds an LRU whose index hashes with seed. The shards of
// [NewShardedLRU] share one seed, so a key's hash picks its shard and
// probes that shard's index.
func newLRU[K comparable, V any](size int, opts StoreOptions, seed maphash.Seed) (*LRU[K, V], error) {
	// One slot of headroom: Set evicts by our bound, never by simplelru's.
	l, err := simplelru.NewLRU[K, *tnode[K, V]](lruCap(size), nil)
	if err != nil {
		return nil, fmt.Errorf("cache: LRU: %w", err)
	}
	return &LRU[K, V]{l: l, bound: bound{size: size, maxCost: opts.MaxCost}, idx: newTindexSeed[K, V](seed)}, nil
}

// Get returns the entry for key and marks it used.
func (s *LRU[K, V]) Get(key K) (*Entry[V], bool) { return lruHit(s.idx.get(key)) }

// lruHit returns the entry of n, an LRU index's node or nil, and marks it
// used.
func lruHit[K comparable, V any](n *tnode[K, V]) (*Entry[V], bool) {
	if n == nil {
		return nil, false
	}
	e := n.e.Load()
	if atomic.LoadUint32(&e.ref) == 0 { // read first: a hot entry's line stays shared
		atomic.StoreUint32(&e.ref, 1)
	}
	return e, true
}

// Set stores e as the most recently used entry, evicting the least recently used.
func (s *LRU[K, V]) Set(key K, e *Entry[V]) (int, error) { return s.set(key, s.idx.hash(key), e) }

// set is Set with key's hash.
func (s *LRU[K, V]) set(key K, h uint64, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	// An older entry for key leaves the list now but its node stays in the
	// index, and takes the new entry, so hits never see key missing.
	n := s.idx.find(key, h)
	if n != nil {
		s.l.Remove(key)
		s.cost -= costOf(n.e.Load())
	}
	if s.tooLarge(c) {
		if n != nil {
			s.idx.remove(n)
		}
		return 0, fmt.Errorf("%w: LRU: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	evicted := 0
	// Second chance: a referenced oldest entry goes to the front unmarked.
	// Each entry is passed over at most once per call (hits may mark it
	// again meanwhile), so this ends.
	for chances := s.l.Len(); s.over(s.l.Len()+1, c); {
		k, v, ok := s.l.GetOldest()
		if !ok {
			break
		}
		if ve := v.e.Load(); chances > 0 && atomic.LoadUint32(&ve.ref) != 0 {
			atomic.StoreUint32(&ve.ref, 0)
			s.l.Get(k) // to the front
			chances--
			continue
		}
		s.l.RemoveOldest()
		s.idx.remove(v)
		s.cost -= costOf(v.e.Load())
		evicted++
	}
	if n != nil {
		n.e.Store(e)
	} else {
		n = &tnode[K, V]{key: key, hash: h}
		n.e.Store(e)
		s.idx.insert(n)
	}
	s.l.Add(key, n)
	s.cost += c
	return evicted, nil
}

// Delete removes key.
func (s *LRU[K, V]) Delete(key K) bool { return s.delete(key, s.idx.hash(key)) }

// delete is Delete with key's hash.
func (s *LRU[K, V]) delete(key K, h uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.idx.find(key, h)
	if n == nil {
		return false
	}
	s.l.Remove(key)
	s.idx.remove(n)
	s.cost -= costOf(n.e.Load())
	return true
}

// Len returns the number of entries held.
func (s *LRU[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.l.Len()
}
