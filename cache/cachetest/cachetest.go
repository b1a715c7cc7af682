// Package cachetest holds what users of package cache need to test against
// it: the conformance suite every [cache.Store] passes, and a fake clock for
// driving an Aside's freshness from a test.
package cachetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/cache"
)

// NewStore builds the store under test with the given entry bound and options.
type NewStore func(size int, opts cache.StoreOptions) (cache.Store[string, int], error)

// Run runs the conformance suite against stores built by newStore. It checks
// behaviour every Store promises; eviction order is policy-specific and
// belongs in each store's own tests.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	mk := func(t *testing.T, size int, opts cache.StoreOptions) cache.Store[string, int] {
		t.Helper()
		s, err := newStore(size, opts)
		if err != nil {
			t.Fatalf("newStore(%d, %+v): %v", size, opts, err)
		}
		return s
	}
	t.Run("BadSize", func(t *testing.T) {
		for _, size := range []int{0, -1} {
			if _, err := newStore(size, cache.StoreOptions{}); !errors.Is(err, cache.ErrInvalidOptions) {
				t.Errorf("size %d: err = %v, want ErrInvalidOptions", size, err)
			}
		}
		if _, err := newStore(4, cache.StoreOptions{MaxCost: -1}); !errors.Is(err, cache.ErrInvalidOptions) {
			t.Errorf("MaxCost -1: err = %v, want ErrInvalidOptions", err)
		}
	})
	t.Run("SetGetDelete", func(t *testing.T) { testSetGetDelete(t, mk(t, 8, cache.StoreOptions{})) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, mk(t, 8, cache.StoreOptions{})) })
	t.Run("BoundByCount", func(t *testing.T) { testBoundByCount(t, mk(t, 16, cache.StoreOptions{}), 16) })
	t.Run("BoundByCost", func(t *testing.T) { testBoundByCost(t, mk(t, 1000, cache.StoreOptions{MaxCost: 100}), 100) })
	t.Run("TooLarge", func(t *testing.T) { testTooLarge(t, mk(t, 8, cache.StoreOptions{MaxCost: 10}), 10) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, mk(t, 64, cache.StoreOptions{}), 64) })
}

func get(t *testing.T, s cache.Store[string, int], key string) (int, bool) {
	t.Helper()
	e, ok := s.Get(key)
	if ok != (e != nil) {
		t.Fatalf("Get(%q) = %v, %v: an entry must be non-nil exactly when found", key, e, ok)
	}
	if !ok {
		return 0, false
	}
	return e.Value, ok
}

func set(t *testing.T, s cache.Store[string, int], key string, v int, cost int64) int {
	t.Helper()
	n, err := s.Set(key, &cache.Entry[int]{Value: v, Cost: cost})
	if err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
	return n
}

func testSetGetDelete(t *testing.T, s cache.Store[string, int]) {
	if _, ok := get(t, s, "a"); ok {
		t.Fatal("Get on empty store found a")
	}
	if n := set(t, s, "a", 1, 0); n != 0 {
		t.Fatalf("Set into empty store evicted %d", n)
	}
	if v, ok := get(t, s, "a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v; want 1, true", v, ok)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d, want 1", s.Len())
	}
	if !s.Delete("a") {
		t.Fatal("Delete(a) = false, want true")
	}
	if s.Delete("a") {
		t.Fatal("second Delete(a) = true, want false")
	}
	if _, ok := get(t, s, "a"); ok || s.Len() != 0 {
		t.Fatalf("after Delete: found=%v Len=%d", ok, s.Len())
	}
}

func testOverwrite(t *testing.T, s cache.Store[string, int]) {
	set(t, s, "k", 1, 0)
	get(t, s, "k")
	set(t, s, "k", 2, 0)
	if v, ok := get(t, s, "k"); !ok || v != 2 {
		t.Fatalf("Get after overwrite = %d, %v; want 2, true", v, ok)
	}
	if s.Len() != 1 {
		t.Fatalf("Len after overwrite = %d, want 1", s.Len())
	}
}

func testBoundByCount(t *testing.T, s cache.Store[string, int], size int) {
	evicted := 0
	const n = 200
	for i := range n {
		key := fmt.Sprint("k", i)
		evicted += set(t, s, key, i, 0)
		if _, ok := get(t, s, key); !ok {
			t.Fatalf("key %q missing right after Set", key)
		}
		if l := s.Len(); l > size {
			t.Fatalf("Len = %d after %d sets, bound %d", l, i+1, size)
		}
	}
	if l := s.Len(); evicted != n-l {
		t.Fatalf("Set reported %d evictions, want %d (sets) - %d (Len)", evicted, n, l)
	}
	present := 0
	for i := range n {
		if v, ok := get(t, s, fmt.Sprint("k", i)); ok {
			present++
			if v != i {
				t.Fatalf("k%d = %d", i, v)
			}
		}
	}
	if present != s.Len() {
		t.Fatalf("%d keys readable, Len = %d", present, s.Len())
	}
}

func testBoundByCost(t *testing.T, s cache.Store[string, int], maxCost int64) {
	costs := map[string]int64{}
	for i := range 100 {
		key := fmt.Sprint("k", i)
		c := int64(1 + i%7)
		set(t, s, key, i, c)
		costs[key] = c
		var total int64
		for k, c := range costs {
			if _, ok := s.Get(k); ok {
				total += c
			}
		}
		if total > maxCost {
			t.Fatalf("after %d sets the stored cost is %d > MaxCost %d", i+1, total, maxCost)
		}
	}
	if s.Len() == 0 {
		t.Fatal("store holds nothing")
	}
}

func testTooLarge(t *testing.T, s cache.Store[string, int], maxCost int64) {
	set(t, s, "old", 1, 1)
	if _, err := s.Set("old", &cache.Entry[int]{Value: 2, Cost: maxCost + 1}); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("oversize Set: err = %v, want ErrTooLarge", err)
	}
	if _, ok := s.Get("old"); ok {
		t.Fatal("oversize Set left the older value readable")
	}
	if _, err := s.Set("big", &cache.Entry[int]{Value: 3, Cost: maxCost + 1}); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("oversize Set: err = %v, want ErrTooLarge", err)
	}
	if _, ok := s.Get("big"); ok || s.Len() != 0 {
		t.Fatalf("oversize entry stored (found=%v, Len=%d)", ok, s.Len())
	}
}

func testConcurrent(t *testing.T, s cache.Store[string, int], size int) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprint("k", (i*7+g)%(3*size))
				switch i % 5 {
				case 0:
					s.Delete(key)
				case 1, 2:
					if _, err := s.Set(key, &cache.Entry[int]{Value: i}); err != nil {
						t.Error(err)
						return
					}
				default:
					s.Get(key)
				}
			}
		})
	}
	wg.Wait()
	if l := s.Len(); l > size || l < 0 {
		t.Fatalf("Len = %d after concurrent use, bound %d", l, size)
	}
}
