package cache_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/cachetest"
)

func wrap[S cache.Store[string, int]](f func(int, cache.StoreOptions) (S, error)) cachetest.NewStore {
	return func(size int, opts cache.StoreOptions) (cache.Store[string, int], error) {
		s, err := f(size, opts)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

var stores = map[string]cachetest.NewStore{
	"LRU":      wrap(cache.NewLRU[string, int]),
	"TwoQueue": wrap(cache.NewTwoQueue[string, int]),
	"ARC":      wrap(cache.NewARC[string, int]),
	"LFU":      wrap(cache.NewLFU[string, int]),
	"FIFO":     wrap(cache.NewFIFO[string, int]),
	"TinyLFU":  wrap(cache.NewTinyLFU[string, int]),
	"Sharded": func(size int, opts cache.StoreOptions) (cache.Store[string, int], error) {
		return cache.NewShardedLRU[string, int](4, size, opts)
	},
}

func TestConformance(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) { cachetest.Run(t, newStore) })
	}
}

// play runs ops ("+k" sets k, "k" gets k) and returns which of want... are present.
func play(t *testing.T, s cache.Store[string, int], ops ...string) {
	t.Helper()
	for _, op := range ops {
		if op[0] == '+' {
			if _, err := s.Set(op[1:], &cache.Entry[int]{Value: len(op)}); err != nil {
				t.Fatal(err)
			}
		} else if _, ok := s.Get(op); !ok {
			t.Fatalf("Get(%q) missed during setup", op)
		}
	}
}

func expect(t *testing.T, s cache.Store[string, int], present, absent string) {
	t.Helper()
	for _, k := range present {
		if _, ok := s.Get(string(k)); !ok {
			t.Errorf("%c was evicted, want present", k)
		}
	}
	for _, k := range absent {
		if _, ok := s.Get(string(k)); ok {
			t.Errorf("%c is present, want evicted", k)
		}
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// Each scenario checks presence only at its end: Get counts as a use.
type scenario struct {
	ops             []string
	present, absent string
}

func runScenarios[S cache.Store[string, int]](t *testing.T, newStore func(int, cache.StoreOptions) (S, error), size int, cases []scenario) {
	t.Helper()
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			s := must[S](t)(newStore(size, cache.StoreOptions{}))
			play(t, s, c.ops...)
			expect(t, s, c.present, c.absent)
		})
	}
}

func ops(s string) []string { return strings.Fields(s) }

func TestLRUEvictionOrder(t *testing.T) {
	runScenarios(t, cache.NewLRU[string, int], 3, []scenario{
		{ops("+a +b +c a +d"), "acd", "b"},        // b least recently used
		{ops("+a +b +c a +d +c +e"), "cde", "ab"}, // re-setting c refreshes it
		{ops("+a +b +c a b +d"), "abd", "c"},      // every used entry outlives the unused one
		// Second chance: a and b were used, so both were passed over for c
		// and went to the front in list order (a, b), losing their marks.
		// Exact LRU would keep a here, used after b; CLOCK keeps b.
		{ops("+a +b +c b a +d +e"), "bde", "ac"},
		// Used again after its second chance, a outlives b.
		{ops("+a +b +c a b +d a +e +f"), "aef", "bcd"},
	})
}

func TestFIFOEvictionOrder(t *testing.T) {
	runScenarios(t, cache.NewFIFO[string, int], 3, []scenario{
		{ops("+a +b +c a a +a +d"), "bcd", "a"}, // reads and updates do not save a
		{ops("+a +b +c +d +e"), "cde", "ab"},
	})
}

func TestLFUEvictionOrder(t *testing.T) {
	runScenarios(t, cache.NewLFU[string, int], 3, []scenario{
		{ops("+a +b +c a a b +d"), "abd", "c"},           // c used least
		{ops("+a +b +c a a b +d +e"), "abe", "cd"},       // d (1 use) before b (2) and a (3)
		{ops("+a +b +c a a b +d d d d +e"), "ade", "bc"}, // d overtook b
		{ops("+a +b +c c b a +d"), "abd", "c"},           // ties: least recently used goes
	})
}

func TestTwoQueueEvictionOrder(t *testing.T) {
	runScenarios(t, cache.NewTwoQueue[string, int], 4, []scenario{
		// a and b are promoted by a second use; a scan cannot flush them
		{ops("+a +b a b +c +d +e +f +g +h"), "abgh", "cdef"},
		// a left recent for the ghost list; set again it goes to frequent and outlives the scan
		{ops("+a +b +c +d +e +a +f +g +h +i"), "aghi", "bcdef"},
	})
	// An LRU of the same size loses a and b to the scan.
	runScenarios(t, cache.NewLRU[string, int], 4, []scenario{{ops("+a +b a b +c +d +e +f +g +h"), "efgh", "ab"}})
}

func TestARCEvictionOrder(t *testing.T) {
	runScenarios(t, cache.NewARC[string, int], 4, []scenario{
		{ops("+a +b a b +c +d +e +f +g +h"), "abgh", "cdef"}, // seen twice: t2 survives the scan
		{ops("+a +b +c +d +e"), "bcde", "a"},                 // plain LRU order while all are new
		// a returns from ghost b1 into t2 and outlives a scan of new keys
		{ops("+a +b +c +d +e +a +f +g +h"), "afgh", "bcde"},
	})
}

func TestShardedEvictsPerShard(t *testing.T) {
	// Keys route by their first byte: "a…", "c…" to one shard, "b…" to the
	// other (the shard is the top bit of hash×φ, and φ is odd).
	s, err := cache.NewSharded(2, func(i, n int) (cache.Store[string, int], error) {
		return cache.NewLRU[string, int](2, cache.StoreOptions{})
	}, cache.ShardedOptions[string]{Hash: func(k string) uint64 { return uint64((k[0]-'a')%2) << 63 }})
	if err != nil {
		t.Fatal(err)
	}
	play(t, s, "+b", "+a", "+c", "+e", "+g") // c, e, g share a's shard (even first byte offset)
	expect(t, s, "beg", "ac")
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
}

// A user hash whose low bits never vary (IDs that are multiples of 16 hashed
// as themselves) must still use every shard, or the store holds 1/16 of its
// bound.
func TestShardedSpreadsPoorHash(t *testing.T) {
	s, err := cache.NewSharded(16, func(i, n int) (cache.Store[int, int], error) {
		return cache.NewLRU[int, int](8, cache.StoreOptions{})
	}, cache.ShardedOptions[int]{Hash: func(k int) uint64 { return uint64(k) }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		s.Set(i*16, &cache.Entry[int]{Value: i})
	}
	if s.Len() < 48 { // 64 keys over 16 shards of 8: a fair spread keeps nearly all
		t.Fatalf("Len = %d of 64 keys in 16×8 slots: the shards are not all used", s.Len())
	}
}

func TestShardedOptionsErrors(t *testing.T) {
	newLRU := func(i, n int) (cache.Store[string, int], error) {
		return cache.NewLRU[string, int](1, cache.StoreOptions{})
	}
	for _, tc := range []struct {
		n int
		f func(i, n int) (cache.Store[string, int], error)
	}{{0, newLRU}, {-3, newLRU}, {1 << 20, newLRU}, {2, nil}, {2, func(i, n int) (cache.Store[string, int], error) { return nil, nil }}} {
		if _, err := cache.NewSharded(tc.n, tc.f, cache.ShardedOptions[string]{}); !errors.Is(err, cache.ErrInvalidOptions) {
			t.Errorf("NewSharded(%d): err = %v, want ErrInvalidOptions", tc.n, err)
		}
	}
	if _, err := cache.NewShardedLRU[string, int](0, 10, cache.StoreOptions{}); !errors.Is(err, cache.ErrInvalidOptions) {
		t.Errorf("NewShardedLRU(0 shards): err = %v", err)
	}
	// More shards than entries: capped, and the bound still holds exactly.
	s, err := cache.NewShardedLRU[string, int](64, 3, cache.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		s.Set(fmt.Sprint(i), &cache.Entry[int]{Value: i})
	}
	if s.Len() > 3 {
		t.Fatalf("Len = %d, bound 3", s.Len())
	}
}
