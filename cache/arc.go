package cache

import (
	"fmt"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// ARC is the Adaptive Replacement Cache (Megiddo & Modha): like 2Q it keeps
// recently-seen-once (t1) and seen-twice (t2) entries apart, but it tunes the
// split p between them from ghost hits (b1, b2) as the workload shifts.
// Build one with [NewARC]; the zero value is not usable.
type ARC[K comparable, V any] struct {
	mu     sync.Mutex
	t1, t2 *simplelru.LRU[K, *Entry[V]]
	b1, b2 *simplelru.LRU[K, struct{}]
	p      int
	bound
}

var _ Store[string, int] = (*ARC[string, int])(nil)

// NewARC returns an ARC store holding at most size entries.
func NewARC[K comparable, V any](size int, opts StoreOptions) (*ARC[K, V], error) {
	if err := opts.validate("ARC", size); err != nil {
		return nil, err
	}
	t1, _ := simplelru.NewLRU[K, *Entry[V]](lruCap(size), nil)
	t2, _ := simplelru.NewLRU[K, *Entry[V]](lruCap(size), nil)
	b1, _ := simplelru.NewLRU[K, struct{}](size, nil)
	b2, _ := simplelru.NewLRU[K, struct{}](size, nil)
	return &ARC[K, V]{t1: t1, t2: t2, b1: b1, b2: b2, bound: bound{size: size, maxCost: opts.MaxCost}}, nil
}

// Get returns the entry for key; a hit in t1 moves it to t2.
func (s *ARC[K, V]) Get(key K) (*Entry[V], bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.t2.Get(key); ok {
		return e, true
	}
	if e, ok := s.t1.Peek(key); ok {
		s.t1.Remove(key)
		s.t2.Add(key, e)
		return e, true
	}
	return nil, false
}

// Set stores e, adapting p on ghost hits.
func (s *ARC[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	present := s.remove(key)
	if s.tooLarge(c) {
		return 0, fmt.Errorf("%w: ARC: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	inB1, inB2 := s.b1.Contains(key), s.b2.Contains(key)
	switch {
	case inB1:
		s.p = min(s.p+max(1, s.b2.Len()/max(1, s.b1.Len())), s.size)
		s.b1.Remove(key)
	case inB2:
		s.p = max(s.p-max(1, s.b1.Len()/max(1, s.b2.Len())), 0)
		s.b2.Remove(key)
	}
	n := 0
	for s.over(s.len()+1, c) && s.len() > 0 {
		s.replace(inB2)
		n++
	}
	if !present && !inB1 && !inB2 {
		// Keep the ghosts within the directory size of 2×size.
		if s.b1.Len() > s.size-s.p {
			s.b1.RemoveOldest()
		}
		if s.b2.Len() > s.p {
			s.b2.RemoveOldest()
		}
	}
	s.cost += c
	if present || inB1 || inB2 {
		s.t2.Add(key, e)
	} else {
		s.t1.Add(key, e)
	}
	return n, nil
}

// replace evicts one entry from t1 or t2 according to the target p.
func (s *ARC[K, V]) replace(inB2 bool) {
	l1 := s.t1.Len()
	if l1 > 0 && (l1 > s.p || (l1 == s.p && inB2) || s.t2.Len() == 0) {
		k, v, _ := s.t1.RemoveOldest()
		s.cost -= costOf(v)
		s.b1.Add(k, struct{}{})
	} else {
		k, v, _ := s.t2.RemoveOldest()
		s.cost -= costOf(v)
		s.b2.Add(k, struct{}{})
	}
	// The directory holds at most 2c keys, c of them resident: c is size when
	// bounded by count, and what fits when a huge count leaves cost to bound.
	for s.b1.Len()+s.b2.Len() > max(1, s.len()+1) {
		if s.b1.Len() > s.b2.Len() {
			s.b1.RemoveOldest()
		} else {
			s.b2.RemoveOldest()
		}
	}
}

func (s *ARC[K, V]) remove(key K) bool {
	if v, ok := s.t1.Peek(key); ok {
		s.t1.Remove(key)
		s.cost -= costOf(v)
		return true
	}
	if v, ok := s.t2.Peek(key); ok {
		s.t2.Remove(key)
		s.cost -= costOf(v)
		return true
	}
	return false
}

func (s *ARC[K, V]) len() int { return s.t1.Len() + s.t2.Len() }

// Delete removes key and its ghosts.
func (s *ARC[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b1.Remove(key)
	s.b2.Remove(key)
	return s.remove(key)
}

// Len returns the number of entries held.
func (s *ARC[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.len()
}
