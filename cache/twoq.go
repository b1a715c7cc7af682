package cache

import (
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// TwoQueue is the 2Q policy (Johnson & Shasha): new keys enter a small
// "recent" FIFO-ish queue; only keys seen again while recent, or soon after
// leaving it (remembered in a ghost list of keys), are promoted to the main
// LRU. A one-off scan therefore cannot flush the frequently used entries.
// Build one with [NewTwoQueue]; the zero value is not usable.
type TwoQueue[K comparable, V any] struct {
	mu         sync.Mutex
	recent     *simplelru.LRU[K, *Entry[V]]
	frequent   *simplelru.LRU[K, *Entry[V]]
	ghost      *simplelru.LRU[K, struct{}]
	recentSize int
	bound
}

var _ Store[string, int] = (*TwoQueue[string, int])(nil)

// NewTwoQueue returns a 2Q store holding at most size entries, with 25% of
// them reserved for recently added keys and a ghost list of size/2 keys.
func NewTwoQueue[K comparable, V any](size int, opts StoreOptions) (*TwoQueue[K, V], error) {
	if err := opts.validate("TwoQueue", size); err != nil {
		return nil, err
	}
	recent, _ := simplelru.NewLRU[K, *Entry[V]](lruCap(size), nil)
	frequent, _ := simplelru.NewLRU[K, *Entry[V]](lruCap(size), nil)
	ghost, _ := simplelru.NewLRU[K, struct{}](max(1, size/2), nil)
	return &TwoQueue[K, V]{
		recent: recent, frequent: frequent, ghost: ghost,
		recentSize: max(1, size/4),
		bound:      bound{size: size, maxCost: opts.MaxCost},
	}, nil
}

// Get returns the entry for key; a second use promotes a recent entry.
func (s *TwoQueue[K, V]) Get(key K) (*Entry[V], bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.frequent.Get(key); ok {
		return e, true
	}
	if e, ok := s.recent.Peek(key); ok {
		s.recent.Remove(key)
		s.frequent.Add(key, e)
		return e, true
	}
	return nil, false
}

// Set stores e: updates and ghost hits go to the frequent queue, new keys to the recent one.
func (s *TwoQueue[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	wasRecent := s.remove(key)
	if s.tooLarge(c) {
		return 0, fmt.Errorf("%w: TwoQueue: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	toFrequent := wasRecent || s.ghost.Contains(key)
	n := 0
	for s.over(s.len()+1, c) && s.len() > 0 {
		s.evict(toFrequent)
		n++
	}
	s.cost += c
	if toFrequent {
		s.ghost.Remove(key)
		s.frequent.Add(key, e)
	} else {
		s.recent.Add(key, e)
	}
	return n, nil
}

// evict removes one entry: from recent when it is over its share, else from frequent.
func (s *TwoQueue[K, V]) evict(ghostHit bool) {
	r := s.recent.Len()
	if r > 0 && (r > s.recentSize || (r == s.recentSize && !ghostHit) || s.frequent.Len() == 0) {
		k, v, _ := s.recent.RemoveOldest()
		s.cost -= costOf(v)
		s.ghost.Add(k, struct{}{})
		// Remember half as many keys as are held: size/2 when bounded by
		// count, and bounded too when a huge count leaves cost to bound.
		for s.ghost.Len() > max(1, (s.len()+1)/2) {
			s.ghost.RemoveOldest()
		}
		return
	}
	_, v, _ := s.frequent.RemoveOldest()
	s.cost -= costOf(v)
}

// remove drops key from both queues and reports whether it was a recent (non-promoted) key.
func (s *TwoQueue[K, V]) remove(key K) (wasPresent bool) {
	if v, ok := s.frequent.Peek(key); ok {
		s.frequent.Remove(key)
		s.cost -= costOf(v)
		return true
	}
	if v, ok := s.recent.Peek(key); ok {
		s.recent.Remove(key)
		s.cost -= costOf(v)
		return true
	}
	return false
}

func (s *TwoQueue[K, V]) len() int { return s.recent.Len() + s.frequent.Len() }

// Delete removes key (its ghost is forgotten too).
func (s *TwoQueue[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ghost.Remove(key)
	return s.remove(key)
}

// Len returns the number of entries held.
func (s *TwoQueue[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.len()
}
