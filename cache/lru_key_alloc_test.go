package cache_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/cache"
)

// An LRU lookup, like a TinyLFU one, allocates nothing whatever the key
// type: its index hashes keys as TinyLFU's does (sync.Map's lookup, which it
// replaces, did not allocate either). Each case calls the concrete store, so
// that only the store, not a call through the Store interface, decides
// whether the key escapes.
func TestLRUGetAllocatesNothingForAnyKeyType(t *testing.T) {
	anyKeys := must[*cache.LRU[any, int]](t)(cache.NewLRU[any, int](64, cache.StoreOptions{}))
	refKeys := must[*cache.LRU[refKey, int]](t)(cache.NewLRU[refKey, int](64, cache.StoreOptions{}))
	ptrKeys := must[*cache.LRU[*int, int]](t)(cache.NewLRU[*int, int](64, cache.StoreOptions{}))
	owner := new(int)
	for i := range 64 {
		anyKeys.Set(1000+i, &cache.Entry[int]{Value: i})
		refKeys.Set(refKey{owner, i}, &cache.Entry[int]{Value: i})
	}
	ptrKeys.Set(owner, &cache.Entry[int]{})
	i := 0
	checkNoAllocs(t, &i, []lookupCase{
		{"interface hit", func() bool { _, ok := anyKeys.Get(1000 + i&63); return ok }},
		{"interface miss", func() bool { _, ok := anyKeys.Get(5000 + i&63); return !ok }},
		{"interface delete miss", func() bool { return !anyKeys.Delete(5000 + i&63) }},
		{"struct with a pointer hit", func() bool { _, ok := refKeys.Get(refKey{owner, i & 63}); return ok }},
		{"struct with a pointer miss", func() bool {
			var other int
			_, ok := refKeys.Get(refKey{&other, i & 63})
			return !ok
		}},
		{"pointer miss", func() bool {
			other := i
			_, ok := ptrKeys.Get(&other)
			return !ok
		}},
		{"pointer hit", func() bool { _, ok := ptrKeys.Get(owner); return ok }},
	})
}

// A NewShardedLRU lookup hashes the key once, for the shard and its index,
// and allocates nothing for a key already on the heap. A key that would
// live on the caller's stack (an interface boxing a value, a struct pointing
// at a local) escapes to the heap, as it did with the shared sync.Map: the
// same Get serves NewSharded's shards, which may be any Store and so may
// keep the key.
func TestShardedLRUGetAllocatesNothingForHeapKeys(t *testing.T) {
	strKeys := must[*cache.Sharded[string, int]](t)(cache.NewShardedLRU[string, int](4, 256, cache.StoreOptions{}))
	refKeys := must[*cache.Sharded[refKey, int]](t)(cache.NewShardedLRU[refKey, int](4, 256, cache.StoreOptions{}))
	ptrKeys := must[*cache.Sharded[*int, int]](t)(cache.NewShardedLRU[*int, int](4, 256, cache.StoreOptions{}))
	owner := new(int)
	names := make([]string, 128)
	for i := range names {
		names[i] = fmt.Sprint("key-", i)
	}
	for i := range 64 {
		strKeys.Set(names[i], &cache.Entry[int]{Value: i})
		refKeys.Set(refKey{owner, i}, &cache.Entry[int]{Value: i})
	}
	ptrKeys.Set(owner, &cache.Entry[int]{})
	i := 0
	checkNoAllocs(t, &i, []lookupCase{
		{"string hit", func() bool { e, ok := strKeys.Get(names[i&63]); return ok && e.Value == i&63 }},
		{"string miss", func() bool { _, ok := strKeys.Get(names[64+i&63]); return !ok }},
		{"string delete miss", func() bool { return !strKeys.Delete(names[64+i&63]) }},
		{"struct with a pointer hit", func() bool { _, ok := refKeys.Get(refKey{owner, i & 63}); return ok }},
		{"struct with a pointer miss", func() bool { _, ok := refKeys.Get(refKey{owner, 64 + i&63}); return !ok }},
		{"pointer hit", func() bool { _, ok := ptrKeys.Get(owner); return ok }},
	})
}

type lookupCase struct {
	name string
	get  func() bool // reports whether the lookup answered right
}

// checkNoAllocs runs each case 200 times, advancing *i, and fails on an
// allocation or a wrong answer.
func checkNoAllocs(t *testing.T, i *int, cases []lookupCase) {
	t.Helper()
	for _, tc := range cases {
		ok := true
		if a := testing.AllocsPerRun(200, func() { ok = ok && tc.get(); *i++ }); a != 0 {
			t.Errorf("%s: %v allocations", tc.name, a)
		}
		if !ok {
			t.Errorf("%s: a lookup answered wrong", tc.name)
		}
	}
}
