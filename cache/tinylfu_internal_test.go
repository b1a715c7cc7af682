package cache

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
)

func TestSketchCountsSaturatesAndAges(t *testing.T) {
	s := newSketch(1000)
	h := uint64(0x1234_5678_9abc_def0)
	if f := s.frequency(h); f != 0 {
		t.Fatalf("unseen key: frequency %d, want 0", f)
	}
	for i := 1; i <= 5; i++ {
		s.increment(h)
		if f := s.frequency(h); f != i {
			t.Fatalf("after %d increments: frequency %d", i, f)
		}
	}
	for range 50 {
		s.increment(h)
	}
	if f := s.frequency(h); f != 15 {
		t.Fatalf("frequency %d after 55 increments, want 15 (4-bit saturation)", f)
	}
	// Aging halves every counter.
	s.reset()
	if f := s.frequency(h); f != 7 {
		t.Fatalf("after reset: frequency %d, want 7", f)
	}
	// Other keys mostly keep 0: count-min only overestimates by collisions.
	over := 0
	for k := range uint64(1000) {
		if s.frequency(k*0x9e3779b97f4a7c15) > 0 {
			over++
		}
	}
	if over > 50 {
		t.Fatalf("%d of 1000 unseen keys have a count: the rows collide too much", over)
	}
}

// The sketch halves itself after sample increments, so an old favourite
// fades behind keys that are popular now.
func TestSketchResetsAfterSample(t *testing.T) {
	s := newSketch(16) // sample = 5 × 16 increments
	old := uint64(42)
	for range 15 {
		s.increment(old)
	}
	for k := range uint64(200) {
		s.increment(k*0x9e3779b97f4a7c15 + 1)
	}
	if f := s.frequency(old); f >= 15 {
		t.Fatalf("old key still at %d after %d increments of others: no aging", f, 200)
	}
	if s.added >= s.sample {
		t.Fatalf("added %d ≥ sample %d after a reset", s.added, s.sample)
	}
}

// A hit takes no lock: with the store's lock held, Get still answers.
func TestTinyLFUHitTakesNoLock(t *testing.T) {
	s, err := NewTinyLFU[string, int](8, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Set("a", &Entry[int]{Value: 1})
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.Get("a"); !ok || e.Value != 1 {
		t.Fatalf("Get under a held lock = %v, %v", e, ok)
	}
}

func TestTinyLFUHitAllocatesNothing(t *testing.T) {
	s, _ := NewTinyLFU[int, int](64, StoreOptions{})
	for i := range 64 {
		s.Set(i, &Entry[int]{Value: i})
	}
	i := 0
	if a := testing.AllocsPerRun(1000, func() { s.Get(i & 63); i++ }); a != 0 {
		t.Fatalf("a hit allocates %v times", a)
	}
}

// A hot entry stops writing its line once its use count saturates, so
// readers on other cores keep sharing it.
func TestTinyLFUUsesSaturate(t *testing.T) {
	s, _ := NewTinyLFU[int, int](8, StoreOptions{})
	s.Set(1, &Entry[int]{})
	for range 100 {
		s.Get(1)
	}
	if u := s.idx.get(1).uses.Load(); u != maxUses {
		t.Fatalf("uses = %d after 100 hits, want %d", u, maxUses)
	}
}

// replayTiny runs keys through s (Set on a miss).
func replayTiny(s *TinyLFU[int, int], keys func(yield func(int) bool)) (hits, n int) {
	for k := range keys {
		n++
		if _, ok := s.Get(k); ok {
			hits++
		} else {
			s.Set(k, &Entry[int]{})
		}
	}
	return hits, n
}

// Hill climbing moves the window towards the size where the hit ratio
// peaks: fed hit ratios that rise with the window, it grows; fed ones that
// fall, it shrinks back to its floor.
func TestTinyLFUWindowClimbs(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		name string
		rate func(window int64) float64 // hit ratio the workload gives at a window size
		ok   func(window int64) bool
	}{
		{"recency pays", func(w int64) float64 { return 0.2 + 0.5*float64(min(w, 600))/600 }, func(w int64) bool { return w >= 450 }},
		{"frequency pays", func(w int64) float64 { return 0.6 - 0.5*float64(w)/size }, func(w int64) bool { return w <= 70 }},
		{"peak in the middle", func(w int64) float64 { return 0.7 - 0.5*math.Abs(float64(w)-300)/size }, func(w int64) bool { return w >= 150 && w <= 450 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := NewTinyLFU[int, int](size, StoreOptions{})
			if tc.name == "frequency pays" {
				s.setWindow(500)
			}
			const sample = 10 * size
			for range 200 {
				hits := int64(tc.rate(s.windowMax) * sample)
				s.hits.Add(hits)
				s.misses += sample - hits
				s.climb()
			}
			if !tc.ok(s.windowMax) {
				t.Fatalf("window %d after 200 samples", s.windowMax)
			}
			if s.protectedMax != int64(protectedShare*float64(size-s.windowMax)) {
				t.Fatalf("protected %d does not follow window %d", s.protectedMax, s.windowMax)
			}
		})
	}
}

// Admission keeps a fixed part of a loop larger than the cache, where an
// LRU gets no hit at all.
func TestTinyLFUKeepsPartOfALoop(t *testing.T) {
	const size = 1000
	s, _ := NewTinyLFU[int, int](size, StoreOptions{})
	hits, n := replayTiny(s, func(yield func(int) bool) {
		for range 30 {
			for k := range 2 * size {
				if !yield(k) {
					return
				}
			}
		}
	})
	if ratio := float64(hits) / float64(n); ratio < 0.3 {
		t.Fatalf("loop of 2× the cache: hit ratio %.1f%%, want ≥ 30%%", 100*ratio)
	}
}

// The segments stay within the bound and consistent with the index.
func TestTinyLFUSegmentsConsistent(t *testing.T) {
	s, _ := NewTinyLFU[int, int](50, StoreOptions{MaxCost: 200})
	for i := range 5000 {
		k := (i * 7919) % 300
		if i%3 == 0 {
			k %= 40
		}
		if _, ok := s.Get(k); !ok {
			s.Set(k, &Entry[int]{Cost: int64(1 + k%9)})
		}
		if i%97 == 0 {
			s.Delete(k + 1)
		}
		n, cost := 0, int64(0)
		for seg, l := range []*tlist[int, int]{&s.window, &s.probation, &s.protected} {
			for p := l.head.next; p != nil && p != &l.head; p = p.next {
				if p.seg != uint8(seg+1) {
					t.Fatalf("step %d: node in segment %d says %d", i, seg+1, p.seg)
				}
				if s.idx.get(p.key) != p {
					t.Fatalf("step %d: key %d in a segment but not the index", i, p.key)
				}
				n++
				cost += p.weight
			}
		}
		if n != s.n || cost != s.cost || n > 50 || cost > 200 {
			t.Fatalf("step %d: %d nodes of cost %d; counted %d, %d; bounds 50, 200", i, n, cost, s.n, s.cost)
		}
		indexed := 0
		s.idx.each(func(p *tnode[int, int]) {
			if p.seg == 0 {
				t.Fatalf("step %d: key %d in the index but in no segment", i, p.key)
			}
			indexed++
		})
		if indexed != n || s.idx.live != n {
			t.Fatalf("step %d: the index holds %d nodes (live %d), the segments %d", i, indexed, s.idx.live, n)
		}
	}
}

// Under an Aside a hit is counted once, by the Aside, and the climber
// samples that count beside the store's own.
func TestTinyLFUUnderAnAsideSamplesItsHits(t *testing.T) {
	const size = 1000
	s, _ := NewTinyLFU[int, int](size, StoreOptions{})
	s.Set(1, &Entry[int]{})
	s.Get(1) // counted by the store: no Aside yet
	a, err := New[int, int](s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := t.Context()
	load := func(context.Context, int) (int, error) { return 0, nil }
	for range 10 {
		if _, err := a.Get(ctx, 1, load); err != nil {
			t.Fatal(err)
		}
	}
	if own, hits := s.hits.Load(), a.c.hits.Load(); own != 1 || hits != 10 || s.hitCount() != own+hits {
		t.Fatalf("store counted %d, Aside %d, climber samples %d: want 1, 10, 11", own, hits, s.hitCount())
	}
	// Fed a workload where recency pays through the Aside's counter, the
	// window grows as it does when the store counts.
	for range 200 {
		hits := int64((0.2 + 0.5*float64(min(s.windowMax, 600))/600) * 10 * size)
		a.c.hits.Add(hits)
		s.misses += 10*size - hits
		s.climb()
	}
	if s.windowMax < 450 {
		t.Fatalf("window %d after 200 samples of the Aside's hits, want ≥ 450", s.windowMax)
	}
}

// The climber counts every hit the store serves once, whoever reads: the
// store's user directly, any of several Asides over it, or one built after
// the store stopped taking on Asides' counters (maxAsides).
func TestTinyLFUClimberCountsEveryReadersHits(t *testing.T) {
	s, _ := NewTinyLFU[int, int](100, StoreOptions{})
	s.Set(1, &Entry[int]{})
	ctx := t.Context()
	load := func(context.Context, int) (int, error) { return 0, nil }
	var asides []*Aside[int, int]
	for range maxAsides + 2 {
		a, err := New[int, int](s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		asides = append(asides, a)
	}
	want := int64(0)
	for i, a := range asides {
		for range i + 1 {
			if _, err := a.Get(ctx, 1, load); err != nil {
				t.Fatal(err)
			}
			want++
		}
		s.Get(1) // the store used directly beside them
		want++
		if got := s.hitCount(); got != want {
			t.Fatalf("after hits through %d Asides and directly, the climber counts %d hits, want %d", i+1, got, want)
		}
	}
	asides[0].Close()
	s.Get(1) // and after an Aside is closed
	asides[0].Get(ctx, 1, load)
	if got := s.hitCount(); got != want+2 {
		t.Fatalf("after an Aside closed, the climber counts %d hits, want %d", got, want+2)
	}
}

// An Aside over a user's store that embeds a TinyLFU reads through the
// user's Get, not the TinyLFU's.
func TestAsideReadsThroughAStoreEmbeddingTinyLFU(t *testing.T) {
	inner, _ := NewTinyLFU[int, int](100, StoreOptions{})
	s := &getCounting{TinyLFU: inner}
	a, err := New[int, int](s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	load := func(context.Context, int) (int, error) { return 7, nil }
	for range 3 {
		if v, err := a.Get(t.Context(), 1, load); err != nil || v != 7 {
			t.Fatalf("Get = %v, %v", v, err)
		}
	}
	if s.gets.Load() < 3 {
		t.Fatalf("the wrapper's Get ran %d times for 3 Gets", s.gets.Load())
	}
	if got := inner.hitCount(); got != 2 {
		t.Fatalf("the climber counts %d hits, want the 2 the TinyLFU served", got)
	}
}

type getCounting struct {
	*TinyLFU[int, int]
	gets atomic.Int64
}

func (s *getCounting) Get(k int) (*Entry[int], bool) {
	s.gets.Add(1)
	return s.TinyLFU.Get(k)
}
