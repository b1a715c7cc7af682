package cache

import (
	"fmt"
	"sync"
)

// LFU evicts the least frequently used entry, the least recently used among
// equals, in O(1) (Shah, Mitra & Matani's bucket list). It suits stable
// popularity (a catalogue's best sellers); under shifting popularity prefer
// LRU or ARC, because old counts keep formerly hot keys resident.
// Build one with [NewLFU]; the zero value is not usable.
type LFU[K comparable, V any] struct {
	mu      sync.Mutex
	items   map[K]*node[K, V]
	buckets bucket[K, V] // sentinel of the ring of buckets, ascending freq
	free    *bucket[K, V]
	bound
}

// bucket holds the nodes used exactly freq times, most recent at the front.
type bucket[K comparable, V any] struct {
	freq       uint64
	nodes      ring[K, V]
	prev, next *bucket[K, V]
}

var _ Store[string, int] = (*LFU[string, int])(nil)

// NewLFU returns an LFU store holding at most size entries.
func NewLFU[K comparable, V any](size int, opts StoreOptions) (*LFU[K, V], error) {
	if err := opts.validate("LFU", size); err != nil {
		return nil, err
	}
	s := &LFU[K, V]{items: make(map[K]*node[K, V], mapHint(size)), bound: bound{size: size, maxCost: opts.MaxCost}}
	s.buckets.prev, s.buckets.next = &s.buckets, &s.buckets
	return s, nil
}

// Get returns the entry for key and counts the use.
func (s *LFU[K, V]) Get(key K) (*Entry[V], bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items[key]
	if !ok {
		return nil, false
	}
	s.touch(n)
	return n.e, true
}

// touch moves n from its bucket to the freq+1 bucket.
func (s *LFU[K, V]) touch(n *node[K, V]) {
	b := n.b
	nb := b.next
	if nb == &s.buckets || nb.freq != b.freq+1 {
		nb = s.newBucket(b.freq+1, b)
	}
	b.nodes.remove(n)
	nb.nodes.pushFront(n)
	n.b = nb
	if b.nodes.n == 0 {
		s.dropBucket(b)
	}
}

func (s *LFU[K, V]) newBucket(freq uint64, after *bucket[K, V]) *bucket[K, V] {
	b := s.free
	if b != nil {
		s.free = b.next
		*b = bucket[K, V]{}
	} else {
		b = &bucket[K, V]{}
	}
	b.freq = freq
	b.prev, b.next = after, after.next
	after.next.prev = b
	after.next = b
	return b
}

func (s *LFU[K, V]) dropBucket(b *bucket[K, V]) {
	b.prev.next = b.next
	b.next.prev = b.prev
	b.prev, b.next = nil, s.free
	s.free = b
}

// Set stores e; a new key starts at frequency 1, a replaced key keeps its count.
func (s *LFU[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	n, had := s.items[key]
	if s.tooLarge(c) {
		if had {
			s.drop(n)
		}
		return 0, fmt.Errorf("%w: LFU: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	if had {
		s.cost -= costOf(n.e)
		n.e = e
		s.touch(n)
	}
	evicted := 0
	for s.over(len(s.items)+boolInt(!had), c) && len(s.items) > boolInt(had) {
		victim := s.buckets.next.nodes.back()
		if victim == n {
			victim = victim.prev
			if victim == &n.b.nodes.head { // n is alone in the lowest bucket
				victim = n.b.next.nodes.back()
			}
		}
		s.drop(victim)
		evicted++
	}
	if !had {
		n = &node[K, V]{key: key, e: e}
		first := s.buckets.next
		if first == &s.buckets || first.freq != 1 {
			first = s.newBucket(1, &s.buckets)
		}
		first.nodes.pushFront(n)
		n.b = first
		s.items[key] = n
	}
	s.cost += c
	return evicted, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *LFU[K, V]) drop(n *node[K, V]) {
	b := n.b
	b.nodes.remove(n)
	if b.nodes.n == 0 {
		s.dropBucket(b)
	}
	n.b = nil
	delete(s.items, n.key)
	s.cost -= costOf(n.e)
}

// Delete removes key.
func (s *LFU[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.items[key]
	if ok {
		s.drop(n)
	}
	return ok
}

// Len returns the number of entries held.
func (s *LFU[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
