package cache_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/cache"
)

// A one-pass scan of 2.5 times the cache's size does not evict a hot set
// that TinyLFU has seen used: every scanned key is seen once, and admission
// keeps a key out of the main space unless it is used more often than the
// entry it would displace. An LRU of the same size loses the whole hot set.
// (Not forever: the sketch halves its counts every 5 × size requests, so a
// hot set that is never read again fades and a longer scan may take its
// place; that is what lets a changed workload in.)
func TestTinyLFUResistsScan(t *testing.T) {
	const size, hot, scan = 100, 50, 250
	tiny := must[*cache.TinyLFU[string, int]](t)(cache.NewTinyLFU[string, int](size, cache.StoreOptions{}))
	lru := must[*cache.LRU[string, int]](t)(cache.NewLRU[string, int](size, cache.StoreOptions{}))
	for _, s := range []cache.Store[string, int]{tiny, lru} {
		for round := range 4 {
			for i := range hot {
				k := fmt.Sprint("hot", i)
				if _, ok := s.Get(k); !ok {
					if round > 0 && s == cache.Store[string, int](tiny) {
						t.Fatalf("hot key %s missing in round %d before any scan", k, round)
					}
					s.Set(k, &cache.Entry[int]{Value: i})
				}
			}
		}
		for i := range scan {
			k := fmt.Sprint("scan", i)
			if _, ok := s.Get(k); !ok {
				s.Set(k, &cache.Entry[int]{Value: i})
			}
		}
	}
	for i := range hot {
		if _, ok := tiny.Get(fmt.Sprint("hot", i)); !ok {
			t.Errorf("TinyLFU: hot key %d evicted by a one-pass scan", i)
		}
	}
	kept := 0
	for i := range hot {
		if _, ok := lru.Get(fmt.Sprint("hot", i)); ok {
			kept++
		}
	}
	if kept != 0 {
		t.Errorf("LRU kept %d hot keys through the scan: the test no longer shows what admission adds", kept)
	}
}

func TestTinyLFUEvictionOrder(t *testing.T) {
	runScenarios(t, cache.NewTinyLFU[string, int], 4, []scenario{
		// used keys survive a burst of new ones that are never used again
		{ops("+a +b a b a b +c +d +e +f +g +h"), "abh", ""},
		// the newest entry is always kept (the window holds it)
		{ops("+a +b +c +d +e"), "e", ""},
		// overwriting counts as a use and keeps the key
		{ops("+a +b +c +d +a +e +f +g"), "ag", ""},
	})
}
