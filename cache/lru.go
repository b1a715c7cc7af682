package cache

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// LRU evicts the least recently used entry. It is the default store: most
// workloads have temporal locality.
//
// A hit takes no lock: the index is a [sync.Map], read lock-free. Stores of
// fewer than 16 entries move every hit entry to the front, under the store's
// lock, and keep exact LRU order. Larger stores approximate it so that hits
// from many cores do not all write one list: a hit moves its entry to the
// front only if at least ⌊size/4⌋ entries were inserted since the entry was
// last moved there; otherwise it marks the entry used (one write, the first
// time). When eviction reaches a marked entry it gives it a second chance
// instead: the entry moves to the front, unmarked, and the next one is
// considered. So an entry hit since its last move is never evicted before
// it has moved again, and such hits order entries by their last move, not
// by the hit itself.
// Build one with [NewLRU]; the zero value is not usable.
type LRU[K comparable, V any] struct {
	idx     sync.Map // K → *node[K, V]; written under mu, read without it
	mu      sync.Mutex
	inserts atomic.Int64 // entries inserted so far; written under mu
	window  int64        // inserts after a move before a hit moves again; 0: every hit moves
	order   ring[K, V]
	bound
}

var _ Store[string, int] = (*LRU[string, int])(nil)

// NewLRU returns an LRU store holding at most size entries.
func NewLRU[K comparable, V any](size int, opts StoreOptions) (*LRU[K, V], error) {
	if err := opts.validate(size); err != nil {
		return nil, fmt.Errorf("cache: LRU: %w", err)
	}
	var w int64
	if size >= 16 {
		w = int64(size / 4)
	}
	return &LRU[K, V]{window: w, bound: bound{size: size, maxCost: opts.MaxCost}}, nil
}

// Get returns the entry for key and marks it recently used.
func (s *LRU[K, V]) Get(key K) (*Entry[V], bool) {
	v, ok := s.idx.Load(key)
	if !ok {
		return nil, false
	}
	n := v.(*node[K, V])
	if s.inserts.Load()-n.stamp.Load() >= s.window {
		s.promote(n)
	} else if !n.used.Load() { // read-mostly: no write once marked
		n.used.Store(true)
	}
	return n.e, true
}

func (s *LRU[K, V]) promote(n *node[K, V]) {
	s.mu.Lock()
	if n.prev != nil { // not removed since the lookup
		s.order.remove(n)
		s.push(n)
	}
	s.mu.Unlock()
}

// push puts n at the front, unmarked; s.mu is held.
func (s *LRU[K, V]) push(n *node[K, V]) {
	s.order.pushFront(n)
	n.stamp.Store(s.inserts.Load())
	n.used.Store(false)
}

// Set stores e as the most recently used entry, evicting the least recently used.
func (s *LRU[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, had := s.idx.Load(key); had {
		s.drop(old.(*node[K, V]))
	}
	if s.tooLarge(c) {
		return 0, fmt.Errorf("cache: LRU: cost %d > MaxCost %d: %w", c, s.maxCost, ErrTooLarge)
	}
	n := 0
	chances := s.order.n // hits racing this loop may mark entries again: bound it
	for s.over(s.order.n+1, c) {
		old := s.order.back()
		if old == nil {
			break
		}
		if chances > 0 && old.used.Load() { // hit since its last move
			chances--
			s.order.remove(old)
			s.push(old)
			continue
		}
		s.drop(old)
		n++
	}
	s.inserts.Store(s.inserts.Load() + 1)
	nd := &node[K, V]{key: key, e: e}
	s.push(nd)
	s.idx.Store(key, nd) // a new node: lock-free readers may hold the old one
	s.cost += c
	return n, nil
}

// drop removes n; s.mu is held.
func (s *LRU[K, V]) drop(n *node[K, V]) {
	s.order.remove(n)
	s.idx.Delete(n.key)
	s.cost -= costOf(n.e)
}

// Delete removes key.
func (s *LRU[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.idx.Load(key)
	if ok {
		s.drop(n.(*node[K, V]))
	}
	return ok
}

// Len returns the number of entries held.
func (s *LRU[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.n
}
