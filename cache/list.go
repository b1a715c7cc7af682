package cache

// node is an element of an intrusive doubly linked ring; the zero ring head
// is initialised lazily. Stores embed nothing else per entry.
type node[K comparable, V any] struct {
	prev, next *node[K, V]
	key        K
	e          *Entry[V]
	b          *bucket[K, V] // LFU only
}

// ring is a list with a sentinel: front is head.next, back is head.prev.
type ring[K comparable, V any] struct {
	head node[K, V]
	n    int
}

func (r *ring[K, V]) init() {
	if r.head.next == nil {
		r.head.next, r.head.prev = &r.head, &r.head
	}
}

func (r *ring[K, V]) pushFront(n *node[K, V]) {
	r.init()
	n.prev, n.next = &r.head, r.head.next
	r.head.next.prev = n
	r.head.next = n
	r.n++
}

func (r *ring[K, V]) remove(n *node[K, V]) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
	r.n--
}

// back returns the oldest node, or nil.
func (r *ring[K, V]) back() *node[K, V] {
	if r.n == 0 {
		return nil
	}
	return r.head.prev
}
