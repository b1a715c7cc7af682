package hitrate

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ladder-go/ladder/cache"
	"github.com/maypok86/otter/v2"
)

// Policy is one cache under replay: Get reports a hit, Set admits on a miss.
type Policy struct {
	Get   func(uint64) bool
	Set   func(uint64)
	Close func()
}

// Cache builds a fresh cache of size entries.
type Cache struct {
	Name string
	New  func(size int) (Policy, error)
}

func store(s cache.Store[uint64, struct{}], err error) (Policy, error) {
	if err != nil {
		return Policy{}, err
	}
	return Policy{
		Get:   func(k uint64) bool { _, ok := s.Get(k); return ok },
		Set:   func(k uint64) { s.Set(k, &cache.Entry[struct{}]{}) },
		Close: func() {},
	}, nil
}

var none = cache.StoreOptions{}

// Caches lists every ladder store, then the peers.
var Caches = []Cache{
	{"ladder-tinylfu", func(n int) (Policy, error) { return store(cache.NewTinyLFU[uint64, struct{}](n, none)) }},
	{"ladder-lru", func(n int) (Policy, error) { return store(cache.NewLRU[uint64, struct{}](n, none)) }},
	{"ladder-2q", func(n int) (Policy, error) { return store(cache.NewTwoQueue[uint64, struct{}](n, none)) }},
	{"ladder-arc", func(n int) (Policy, error) { return store(cache.NewARC[uint64, struct{}](n, none)) }},
	{"ladder-lfu", func(n int) (Policy, error) { return store(cache.NewLFU[uint64, struct{}](n, none)) }},
	{"ladder-fifo", func(n int) (Policy, error) { return store(cache.NewFIFO[uint64, struct{}](n, none)) }},
	{"golang-lru", func(n int) (Policy, error) {
		c, err := lru.New[uint64, struct{}](n)
		if err != nil {
			return Policy{}, err
		}
		return Policy{
			Get:   func(k uint64) bool { _, ok := c.Get(k); return ok },
			Set:   func(k uint64) { c.Add(k, struct{}{}) },
			Close: func() {},
		}, nil
	}},
	{"otter", func(n int) (Policy, error) {
		c, err := otter.New(&otter.Options[uint64, struct{}]{MaximumSize: n})
		if err != nil {
			return Policy{}, err
		}
		return Policy{
			Get:   func(k uint64) bool { _, ok := c.GetIfPresent(k); return ok },
			Set:   func(k uint64) { c.Set(k, struct{}{}) },
			Close: func() {},
		}, nil
	}},
	{"ristretto", func(n int) (Policy, error) {
		// ristretto's documented sizing: NumCounters 10× the entries.
		c, err := ristretto.NewCache(&ristretto.Config[uint64, struct{}]{
			NumCounters: int64(10 * n), MaxCost: int64(n), BufferItems: 64, IgnoreInternalCost: true,
		})
		if err != nil {
			return Policy{}, err
		}
		// Set is asynchronous: waiting after each one measures the policy
		// (TinyLFU admission, sampled LFU eviction), not dropped buffers.
		return Policy{
			Get:   func(k uint64) bool { _, ok := c.Get(k); return ok },
			Set:   func(k uint64) { c.Set(k, struct{}{}, 1); c.Wait() },
			Close: c.Close,
		}, nil
	}},
}

// Replay runs keys through p (a miss is followed by a Set) and returns the
// hit ratio in percent.
func Replay(p Policy, keys []uint64) float64 {
	hits := 0
	for _, k := range keys {
		if p.Get(k) {
			hits++
		} else {
			p.Set(k)
		}
	}
	return 100 * float64(hits) / float64(max(1, len(keys)))
}

// Median replays keys through runs fresh caches of size entries and returns
// the median hit ratio, with the smallest and largest.
func Median(c Cache, size int, keys []uint64, runs int) (med, lo, hi float64, err error) {
	var r []float64
	for range max(1, runs) {
		p, err := c.New(size)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("%s at %d: %w", c.Name, size, err)
		}
		r = append(r, Replay(p, keys))
		p.Close()
	}
	slices.Sort(r)
	n := len(r)
	if n%2 == 1 {
		med = r[n/2]
	} else {
		med = (r[n/2-1] + r[n/2]) / 2
	}
	return med, r[0], r[n-1], nil
}

// Cell is one cache at one size on one stream.
type Cell struct {
	Med, Lo, Hi float64
}

// Table replays st through every cache at every size, runs times each, on
// up to GOMAXPROCS goroutines; cells[i][j] is Caches[i] at st.Sizes[j].
func Table(st Stream, caches []Cache, runs int) ([][]Cell, error) {
	cells := make([][]Cell, len(caches))
	for i := range cells {
		cells[i] = make([]Cell, len(st.Sizes))
	}
	type job struct{ i, j int }
	jobs := make(chan job)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for jb := range jobs {
				med, lo, hi, err := Median(caches[jb.i], st.Sizes[jb.j], st.Keys, runs)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				cells[jb.i][jb.j] = Cell{med, lo, hi}
				mu.Unlock()
			}
		})
	}
	for i := range caches {
		for j := range st.Sizes {
			jobs <- job{i, j}
		}
	}
	close(jobs)
	wg.Wait()
	return cells, first
}
