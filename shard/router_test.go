package shard_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

func jumpMap(t testing.TB, version uint64, n int) *shard.Map {
	t.Helper()
	j, err := shard.NewJump(n)
	if err != nil {
		t.Fatal(err)
	}
	m, err := shard.NewMap(version, dbNames(n), j)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSwapIsCompareAndSwap(t *testing.T) {
	m1, m2, m3 := jumpMap(t, 1, 4), jumpMap(t, 2, 5), jumpMap(t, 3, 6)
	r := shard.NewRouter(m1)
	if err := r.Swap(m1, m2); err != nil {
		t.Fatal(err)
	}
	if r.Map() != m2 {
		t.Fatal("Swap did not install m2")
	}
	// A stale caller that still holds m1 loses.
	if err := r.Swap(m1, m3); !errors.Is(err, shard.ErrConflict) {
		t.Errorf("stale swap: err = %v, want ErrConflict", err)
	}
	// Versions must increase.
	if err := r.Swap(m2, jumpMap(t, 2, 6)); !errors.Is(err, shard.ErrVersion) {
		t.Errorf("same version: err = %v, want ErrVersion", err)
	}
	if err := r.Swap(m2, m1); !errors.Is(err, shard.ErrVersion) {
		t.Errorf("older version: err = %v, want ErrVersion", err)
	}
	if err := r.Swap(m2, nil); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Errorf("nil next: err = %v", err)
	}
	if r.Map() != m2 {
		t.Fatal("a failed Swap changed the map")
	}
	for _, err := range []error{r.Swap(m1, m3), r.Swap(m2, m1)} {
		assertPrefixOnce(t, "Swap", err)
	}
}

// The zero Router holds nothing until Swap(nil, m).
func TestZeroRouter(t *testing.T) {
	var r shard.Router
	if r.Map() != nil {
		t.Fatal("zero Router has a map")
	}
	m := jumpMap(t, 1, 2)
	if err := r.Swap(nil, m); err != nil {
		t.Fatal(err)
	}
	if err := r.Swap(nil, jumpMap(t, 2, 3)); !errors.Is(err, shard.ErrConflict) {
		t.Errorf("second Swap(nil, …): err = %v, want ErrConflict", err)
	}
}

// Readers running during swaps always see a whole map: the shard number
// and name they get agree with one version, and versions never go back.
func TestConcurrentReadersSeeWholeMaps(t *testing.T) {
	r := shard.NewRouter(jumpMap(t, 1, 1))
	const swaps = 200
	var done atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			var last uint64
			for i := uint64(w); !done.Load(); i++ {
				m := r.Map()
				if m.Version() < last {
					t.Errorf("version went back from %d to %d", last, m.Version())
					return
				}
				last = m.Version()
				h := shard.KeyUint64(i)
				// Map v has v shards (jumpMap(v, v)).
				if s := m.Shard(h); s >= int(m.Version()) || m.Name(h) != dbNames(m.Len())[s] || m.Len() != int(m.Version()) {
					t.Errorf("map v%d: shard %d of %d", m.Version(), s, m.Len())
					return
				}
			}
		})
	}
	for v := uint64(2); v <= swaps; v++ {
		for {
			cur := r.Map()
			if err := r.Swap(cur, jumpMap(t, v, int(v))); err == nil {
				break
			} else if !errors.Is(err, shard.ErrConflict) {
				t.Fatal(err)
			}
		}
	}
	done.Store(true)
	wg.Wait()
	if r.Map().Version() != swaps {
		t.Errorf("final version %d", r.Map().Version())
	}
}

// Concurrent writers racing from the same map: exactly one wins.
func TestConcurrentSwapsOneWins(t *testing.T) {
	m1 := jumpMap(t, 1, 4)
	r := shard.NewRouter(m1)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if r.Swap(m1, jumpMap(t, uint64(2+i), 5)) == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d swaps won, want 1", wins.Load())
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	m := jumpMap(t, 1, 16)
	r := shard.NewRouter(m)
	var sink int
	if n := testing.AllocsPerRun(1000, func() {
		h := shard.KeyString("user:12345")
		sink += r.Shard(h) + len(r.Map().Name(h))
	}); n != 0 {
		t.Errorf("allocs per lookup = %v, want 0", n)
	}
}

// A user's strategy that returns a shard out of range does not panic the
// router: the map falls back to jump hashing over its shards.
func TestMapSurvivesABrokenStrategy(t *testing.T) {
	m, err := shard.NewMap(1, dbNames(3), broken{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if s := m.Shard(uint64(i)); s < 0 || s >= 3 {
			t.Fatalf("Shard = %d", s)
		}
		_ = m.Name(uint64(i))
	}
}

type broken struct{}

func (broken) Shard(h uint64) int { return int(h%7) - 3 }
func (broken) Len() int           { return 3 }
