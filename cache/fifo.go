package cache

import (
	"fmt"
	"sync"
)

// FIFO evicts the oldest inserted entry regardless of use. Reads never
// reorder anything, so they share a read lock: FIFO suits data that is
// refreshed on a schedule (feeds, config snapshots) and read by many.
// Build one with [NewFIFO]; the zero value is not usable.
type FIFO[K comparable, V any] struct {
	mu    sync.RWMutex
	items map[K]*node[K, V]
	order ring[K, V]
	bound
}

var _ Store[string, int] = (*FIFO[string, int])(nil)

// NewFIFO returns a FIFO store holding at most size entries.
func NewFIFO[K comparable, V any](size int, opts StoreOptions) (*FIFO[K, V], error) {
	if err := opts.validate("FIFO", size); err != nil {
		return nil, err
	}
	return &FIFO[K, V]{items: make(map[K]*node[K, V], mapHint(size)), bound: bound{size: size, maxCost: opts.MaxCost}}, nil
}

// Get returns the entry for key without changing the eviction order.
func (s *FIFO[K, V]) Get(key K) (*Entry[V], bool) {
	s.mu.RLock()
	n, ok := s.items[key]
	var e *Entry[V]
	if ok {
		e = n.e
	}
	s.mu.RUnlock()
	return e, ok
}

// Set stores e; replacing a key keeps its place in the queue.
func (s *FIFO[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, had := s.items[key]
	if s.tooLarge(c) {
		if had {
			s.drop(n)
		}
		return 0, fmt.Errorf("%w: FIFO: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	if had {
		s.cost -= costOf(n.e)
		n.e = e
	} else {
		n = &node[K, V]{key: key, e: e}
		s.items[key] = n
		s.order.pushFront(n)
	}
	evicted := 0
	for s.over(len(s.items), c) { // n's cost is added once the others fit
		old := s.order.back()
		if old == n && len(s.items) == 1 {
			break
		}
		if old == n { // never evict the entry being set
			old = old.prev
		}
		s.drop(old)
		evicted++
	}
	s.cost += c
	return evicted, nil
}

func (s *FIFO[K, V]) drop(n *node[K, V]) {
	s.order.remove(n)
	delete(s.items, n.key)
	s.cost -= costOf(n.e)
}

// Delete removes key.
func (s *FIFO[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items[key]
	if ok {
		s.drop(n)
	}
	return ok
}

// Len returns the number of entries held.
func (s *FIFO[K, V]) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}
