package cache

import (
	"errors"
	"math"
	"testing"
)

// Float keys follow ==: +0 and -0 are one key, and a NaN equals nothing,
// so each Set of NaN adds an entry no Get finds, but eviction still removes
// it (by node, not by key), so neither the store nor its index grows.
func TestTinyLFUFloatKeys(t *testing.T) {
	const size = 100
	s, _ := NewTinyLFU[float64, int](size, StoreOptions{})
	s.Set(0, &Entry[int]{Value: 1})
	if e, ok := s.Get(math.Copysign(0, -1)); !ok || e.Value != 1 {
		t.Fatalf("Get(-0) after Set(+0) = %v, %v", e, ok)
	}
	s.Set(math.Copysign(0, -1), &Entry[int]{Value: 2})
	if e, ok := s.Get(0); !ok || e.Value != 2 || s.Len() != 1 {
		t.Fatalf("after Set(-0): Get(+0) = %v, %v, Len %d: want the one entry, replaced", e, ok, s.Len())
	}
	for i := range 20 * size {
		s.Set(math.NaN(), &Entry[int]{Value: i})
	}
	if _, ok := s.Get(math.NaN()); ok {
		t.Fatal("Get(NaN) found an entry")
	}
	if s.Delete(math.NaN()) {
		t.Fatal("Delete(NaN) deleted an entry")
	}
	if n := s.Len(); n != size || s.idx.live != n {
		t.Fatalf("after %d Sets of NaN: Len %d, index %d, want %d", 20*size, n, s.idx.live, size)
	}
	if slots := len(s.idx.t.Load().slots); slots > 8*size {
		t.Fatalf("%d index slots for %d entries", slots, size)
	}
	for range 2 * size { // NaN entries are evicted like any other
		s.Set(1, &Entry[int]{})
		s.Set(2, &Entry[int]{})
	}
	if _, ok := s.Get(2); !ok {
		t.Fatal("a key just set is missing")
	}
}

// Interface keys are equal only with the same dynamic type and value.
func TestTinyLFUInterfaceKeys(t *testing.T) {
	s, _ := NewTinyLFU[any, int](100, StoreOptions{})
	keys := []any{1, int64(1), uint8(1), 1.0, "1", true, struct{ A int }{1}, [1]int{1}, nil, &struct{}{}}
	for i, k := range keys {
		s.Set(k, &Entry[int]{Value: i})
	}
	for i, k := range keys {
		if e, ok := s.Get(k); !ok || e.Value != i {
			t.Errorf("Get(%T %v) = %v, %v, want %d", k, k, e, ok, i)
		}
	}
	if s.Len() != len(keys) || s.idx.live != len(keys) {
		t.Fatalf("Len %d, index %d, want %d", s.Len(), s.idx.live, len(keys))
	}
	// An unhashable dynamic type panics, as a map's key does, and leaves
	// the store usable.
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Set of a []int key did not panic")
			}
		}()
		s.Set([]int{1}, &Entry[int]{})
	}()
	if !s.Delete(1) || s.Len() != len(keys)-1 {
		t.Fatal("the store is not usable after a panicking Set")
	}
}

// Replacing a key keeps one index entry; a replacement too large for
// MaxCost removes the key from the index as well as the segments.
func TestTinyLFUReplaceKeepsIndexInStep(t *testing.T) {
	s, _ := NewTinyLFU[string, int](10, StoreOptions{MaxCost: 100})
	s.Set("a", &Entry[int]{Value: 1, Cost: 10})
	s.Set("a", &Entry[int]{Value: 2, Cost: 20})
	if e, ok := s.Get("a"); !ok || e.Value != 2 || s.idx.live != 1 || s.cost != 20 {
		t.Fatalf("after a replace: Get = %v, %v; index %d, cost %d", e, ok, s.idx.live, s.cost)
	}
	if _, err := s.Set("a", &Entry[int]{Value: 3, Cost: 101}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Set over MaxCost: %v", err)
	}
	if _, ok := s.Get("a"); ok || s.Len() != 0 || s.idx.live != 0 || s.cost != 0 {
		t.Fatalf("after a too-large replace: found %v, Len %d, index %d, cost %d", ok, s.Len(), s.idx.live, s.cost)
	}
	s.Set("a", &Entry[int]{Value: 4})
	if e, ok := s.Get("a"); !ok || e.Value != 4 {
		t.Fatalf("Set after the refusal: Get = %v, %v", e, ok)
	}
}
