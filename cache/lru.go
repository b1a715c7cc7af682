package cache

import (
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// LRU evicts the least recently used entry. It is the default store: most
// workloads have temporal locality, and LRU's hit path is one map lookup and
// one list move under a lock.
// Build one with [NewLRU]; the zero value is not usable.
type LRU[K comparable, V any] struct {
	mu sync.Mutex
	l  *simplelru.LRU[K, *Entry[V]]
	bound
}

var _ Store[string, int] = (*LRU[string, int])(nil)

// NewLRU returns an LRU store holding at most size entries.
func NewLRU[K comparable, V any](size int, opts StoreOptions) (*LRU[K, V], error) {
	if err := opts.validate(size); err != nil {
		return nil, fmt.Errorf("cache: LRU: %w", err)
	}
	// One slot of headroom: Set evicts by our bound, never by simplelru's.
	l, err := simplelru.NewLRU[K, *Entry[V]](lruCap(size), nil)
	if err != nil {
		return nil, fmt.Errorf("cache: LRU: %w", err)
	}
	return &LRU[K, V]{l: l, bound: bound{size: size, maxCost: opts.MaxCost}}, nil
}

// Get returns the entry for key and marks it most recently used.
func (s *LRU[K, V]) Get(key K) (*Entry[V], bool) {
	s.mu.Lock()
	e, ok := s.l.Get(key)
	s.mu.Unlock()
	return e, ok
}

// Set stores e as the most recently used entry, evicting the least recently used.
func (s *LRU[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, had := s.l.Peek(key); had {
		s.l.Remove(key)
		s.cost -= costOf(old)
	}
	if s.tooLarge(c) {
		return 0, fmt.Errorf("cache: LRU: cost %d > MaxCost %d: %w", c, s.maxCost, ErrTooLarge)
	}
	n := 0
	for s.over(s.l.Len()+1, c) {
		_, v, ok := s.l.RemoveOldest()
		if !ok {
			break
		}
		s.cost -= costOf(v)
		n++
	}
	s.l.Add(key, e)
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
