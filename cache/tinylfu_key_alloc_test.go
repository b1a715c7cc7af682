package cache_test

import (
	"testing"

	"github.com/ladder-go/ladder/cache"
)

type refKey struct {
	owner *int
	id    int
}

// A TinyLFU lookup allocates nothing whatever the key type: not for an
// interface key boxing a value, a struct holding a pointer, or a pointer.
// (hash/maphash.Comparable makes whatever its argument points to escape to
// the heap, since a pointer hashes by its address; hashing the key with it
// as is made every Get of such a key allocate it, where sync.Map's lookup
// had not.)
func TestTinyLFUGetAllocatesNothingForAnyKeyType(t *testing.T) {
	anyKeys := must[*cache.TinyLFU[any, int]](t)(cache.NewTinyLFU[any, int](64, cache.StoreOptions{}))
	for i := range 64 {
		anyKeys.Set(1000+i, &cache.Entry[int]{Value: i})
	}
	owner := new(int)
	refKeys := must[*cache.TinyLFU[refKey, int]](t)(cache.NewTinyLFU[refKey, int](64, cache.StoreOptions{}))
	for i := range 64 {
		refKeys.Set(refKey{owner, i}, &cache.Entry[int]{Value: i})
	}
	ptrKeys := must[*cache.TinyLFU[*int, int]](t)(cache.NewTinyLFU[*int, int](64, cache.StoreOptions{}))
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
	})
	if _, ok := ptrKeys.Get(owner); !ok {
		t.Error("pointer hit: missed")
	}
}
