package cache_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/ladder-go/ladder/cache"
)

// shiftingTrace is a workload where recency pays: requests fall uniformly
// on a working set of 80 % of size keys that slides on by one key every 8
// requests. TinyLFU serves it well only once hill climbing has grown the
// window (a small window refuses the new keys, whose frequency is still
// below that of the old ones they would displace).
func shiftingTrace(n, size int) []int {
	r := rand.New(rand.NewPCG(1, 2))
	keys := make([]int, n)
	for i := range keys {
		keys[i] = i/8 + r.IntN(size*8/10)
	}
	return keys
}

// hitRatio replays keys through get, which reports a hit, and returns the
// hit ratio of the second half, once the window has had time to climb.
func hitRatio(keys []int, get func(k int) bool) float64 {
	hits := 0
	for i, k := range keys {
		if get(k) && i >= len(keys)/2 {
			hits++
		}
	}
	return float64(hits) / float64(len(keys)-len(keys)/2)
}

func direct(s *cache.TinyLFU[int, int]) func(int) bool {
	return func(k int) bool {
		if _, ok := s.Get(k); ok {
			return true
		}
		s.Set(k, &cache.Entry[int]{})
		return false
	}
}

func through(a *cache.Aside[int, int]) func(int) bool {
	load := func(context.Context, int) (int, error) { return 0, nil }
	return func(k int) bool {
		if _, ok := a.Lookup(k); ok {
			return true
		}
		a.Get(context.Background(), k, load)
		return false
	}
}

// A TinyLFU adapts its window to every hit it serves, whoever asks: used
// alone, through an Aside, directly after an Aside was built over it, or
// through the first of two Asides sharing it, the same replay gets about
// the same hit ratio. (The climber once sampled only the last Aside's hit
// count: the store's own hits and the other Aside's went unseen, the
// climber saw a hit ratio of 0 and shrank the window to its floor, and the
// hit ratio of this replay fell from 0.86 to 0.41.)
func TestTinyLFUClimbsOnEveryHit(t *testing.T) {
	const size = 100
	keys := shiftingTrace(100_000, size)
	newStore := func() *cache.TinyLFU[int, int] {
		return must[*cache.TinyLFU[int, int]](t)(cache.NewTinyLFU[int, int](size, cache.StoreOptions{}))
	}
	newAside := func(s *cache.TinyLFU[int, int]) *cache.Aside[int, int] {
		a := must[*cache.Aside[int, int]](t)(cache.New[int, int](s, cache.Options{}))
		t.Cleanup(func() { a.Close() })
		return a
	}
	alone := hitRatio(keys, direct(newStore()))
	if alone < 0.75 {
		t.Fatalf("alone, the store's hit ratio is %.3f: the replay no longer rewards a grown window", alone)
	}
	for _, tc := range []struct {
		name string
		get  func() func(int) bool
	}{
		{"through an Aside", func() func(int) bool { return through(newAside(newStore())) }},
		{"directly after an Aside was closed", func() func(int) bool {
			s := newStore()
			newAside(s).Close()
			return direct(s)
		}},
		{"directly beside an Aside", func() func(int) bool {
			s := newStore()
			newAside(s)
			return direct(s)
		}},
		{"through the first of two Asides", func() func(int) bool {
			s := newStore()
			a := newAside(s)
			newAside(s)
			return through(a)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hitRatio(keys, tc.get()); got < alone-0.05 {
				t.Errorf("hit ratio %.3f, alone %.3f", got, alone)
			}
		})
	}
}
