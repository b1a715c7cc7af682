package cache

import (
	"hash/maphash"
	"sync/atomic"
	"unsafe"
)

// tindex is the index of TinyLFU and LRU, key → node: an open-addressing
// hash table (linear probing) written by one goroutine at a time, under the
// store's lock, and read by any number without one. A hit is one hash and, at the
// load factor kept here, one or two slot loads; sync.Map's Load, which it
// replaces, walks a trie of nodes and cost about ten times the hash on 2
// cores.
//
// Readers see each slot change atomically. A deleted key leaves a tombstone,
// which readers probe past and a later insert may reuse. A table that fills
// with entries or tombstones is rebuilt whole into a new one and swapped in;
// the old table is never written again, so a reader still probing it sees
// the index as it was at the swap.
type tindex[K comparable, V any] struct {
	t    atomic.Pointer[ttable[K, V]]
	seed maphash.Seed
	tomb *tnode[K, V] // marks a deleted slot
	// Written only under the store's lock.
	live, used int // nodes held; nodes and tombstones in t
}

type ttable[K comparable, V any] struct {
	mask  uint64
	slots []atomic.Pointer[tnode[K, V]]
}

const tindexMin = 16 // slots

func newTindex[K comparable, V any]() *tindex[K, V] {
	return newTindexSeed[K, V](maphash.MakeSeed())
}

// newTindexSeed is newTindex hashing with seed: indexes that share a seed
// hash a key alike, so one hash serves them all (the shards of
// [NewShardedLRU], one index each, pick the shard from it too).
func newTindexSeed[K comparable, V any](seed maphash.Seed) *tindex[K, V] {
	x := &tindex[K, V]{seed: seed, tomb: new(tnode[K, V])}
	x.t.Store(newTtable[K, V](tindexMin))
	return x
}

func newTtable[K comparable, V any](n int) *ttable[K, V] {
	return &ttable[K, V]{mask: uint64(n - 1), slots: make([]atomic.Pointer[tnode[K, V]], n)}
}

// hash is key's hash. maphash.Comparable makes what its argument points to
// escape to the heap (a pointer hashes by its address, and a stack may
// move), so a lookup of a key holding a pointer (an interface boxing a
// value, a pointer, a struct with one) would allocate the key on every
// Get: the key is passed on hidden from escape analysis, as sync.Map's
// lookup does. That is sound here: a key pointing into a stack cannot
// equal a stored key (insert's caller stores the key in a node, so what a
// stored key points to is on the heap), so it misses whatever its hash,
// as it must; a value hashes by content wherever it lies.
func (x *tindex[K, V]) hash(key K) uint64 {
	return maphash.Comparable(x.seed, *(*K)(noescape(unsafe.Pointer(&key))))
}

// hashKey is tindex.hash with seed, for a caller holding the seed of
// several indexes. (tindex.hash does not call it: that would be one call
// more on every hit, as it is not inlined.)
func hashKey[K comparable](seed maphash.Seed, key K) uint64 {
	return maphash.Comparable(seed, *(*K)(noescape(unsafe.Pointer(&key))))
}

// noescape hides p from escape analysis, which tracks unsafe.Add's
// pointer operand but not its offset (the runtime's noescape, in a form
// vet accepts). It is exempt from checkptr (and so not inlined under
// -race), which would take the result for arithmetic on nil gone astray.
//
//go:nocheckptr
func noescape(p unsafe.Pointer) unsafe.Pointer {
	return unsafe.Add(nil, uintptr(p))
}

// get returns key's node, or nil. It takes no lock.
func (x *tindex[K, V]) get(key K) *tnode[K, V] {
	return x.find(key, x.hash(key))
}

// find is get with key's hash.
func (x *tindex[K, V]) find(key K, h uint64) *tnode[K, V] {
	t := x.t.Load()
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		n := t.slots[i].Load()
		if n == nil {
			return nil
		}
		if n.hash == h && n != x.tomb && n.key == key {
			return n
		}
	}
}

// insert adds n, whose key is not in the index (n.hash is set). The
// caller holds the store's lock.
func (x *tindex[K, V]) insert(n *tnode[K, V]) {
	t := x.t.Load()
	// Live entries stay at most half the table, and entries and tombstones
	// at most three quarters of it, so a probe ends soon at an empty slot.
	if (x.used+1)*4 > len(t.slots)*3 || (x.live+1)*2 > len(t.slots) {
		t = x.rebuild(x.live + 1)
	}
	for i := n.hash & t.mask; ; i = (i + 1) & t.mask {
		switch p := t.slots[i].Load(); p {
		case nil:
			x.used++
			fallthrough
		case x.tomb:
			x.live++
			t.slots[i].Store(n)
			return
		}
	}
}

// remove deletes n from the index, if there. The caller holds the store's
// lock.
func (x *tindex[K, V]) remove(n *tnode[K, V]) {
	t := x.t.Load()
	for i := n.hash & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			return
		case n:
			t.slots[i].Store(x.tomb)
			x.live--
			// A table left mostly empty by deletes shrinks.
			if len(t.slots) > tindexMin && x.live*8 < len(t.slots) {
				x.rebuild(x.live)
			}
			return
		}
	}
}

// rebuild copies the live nodes into a new table sized for want of them,
// at most a quarter full, and swaps it in.
func (x *tindex[K, V]) rebuild(want int) *ttable[K, V] {
	size := tindexMin
	for size < 4*want {
		size *= 2
	}
	old := x.t.Load()
	t := newTtable[K, V](size)
	for i := range old.slots {
		n := old.slots[i].Load()
		if n == nil || n == x.tomb {
			continue
		}
		j := n.hash & t.mask
		for t.slots[j].Load() != nil {
			j = (j + 1) & t.mask
		}
		t.slots[j].Store(n)
	}
	x.used = x.live
	x.t.Store(t)
	return t
}

// each calls f for every node in the index; the caller holds the store's
// lock.
func (x *tindex[K, V]) each(f func(*tnode[K, V])) {
	t := x.t.Load()
	for i := range t.slots {
		if n := t.slots[i].Load(); n != nil && n != x.tomb {
			f(n)
		}
	}
}
