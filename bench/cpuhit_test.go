package bench

import (
	"context"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ladder-go/ladder/cache"
	"github.com/maypok86/otter/v2"
)

// cpuNow is the process's user + system CPU time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCPUPerHit reports the process CPU time per hit (getrusage) of
// ladder's Aside over each store and of the bare peers, one goroutine and
// then two, in 9 interleaved rounds (median and minimum). On a shared,
// oversubscribed machine the wall-clock ns/op of BenchmarkHit and
// BenchmarkParallelHit mostly measure how much CPU the run was given; CPU
// time does not count time spent descheduled, so it compares lock-free hit
// paths (ladder's, otter's, ristretto's) fairly. It hides lock waits (a
// goroutine parked on golang-lru's mutex uses no CPU), so golang-lru's
// parallel figure is a floor. It measures, it asserts nothing; it runs only
// with LADDER_CPUHIT=1:
//
//	cd bench && LADDER_CPUHIT=1 go test -run TestCPUPerHit -v .
func TestCPUPerHit(t *testing.T) {
	if os.Getenv("LADDER_CPUHIT") == "" {
		t.Skip("set LADDER_CPUHIT=1 to measure")
	}
	ctx := context.Background()
	mk := func(store cache.Store[int, int]) func(int) {
		a, _ := cache.New(store, cache.Options{TTL: time.Hour})
		for i := range 4 * hitKeys {
			a.Get(ctx, i, loadInt)
		}
		return func(k int) { a.Get(ctx, k, loadInt) }
	}
	lruS, _ := cache.NewLRU[int, int](4*hitKeys, cache.StoreOptions{})
	tinyS, _ := cache.NewTinyLFU[int, int](4*hitKeys, cache.StoreOptions{})
	tiny10k, _ := cache.NewTinyLFU[int, int](10_000, cache.StoreOptions{})
	shS, _ := cache.NewShardedLRU[int, int](64, 4*hitKeys, cache.StoreOptions{})
	gl, _ := lru.New[int, int](4 * hitKeys)
	ot := otter.Must(&otter.Options[int, int]{MaximumSize: 4 * hitKeys})
	rs, _ := ristretto.NewCache(&ristretto.Config[int, int]{NumCounters: 40 * hitKeys, MaxCost: 4 * hitKeys, BufferItems: 64, IgnoreInternalCost: true})
	defer rs.Close()
	for i := range 4 * hitKeys {
		gl.Add(i, i)
		ot.Set(i, i)
		rs.Set(i, i, 1)
	}
	rs.Wait()
	impls := []struct {
		name string
		get  func(int)
	}{
		{"ladder-lru", mk(lruS)},
		{"ladder-tinylfu", mk(tinyS)},
		{"ladder-sharded", mk(shS)},
		{"ladder-tinylfu-10k", mk(tiny10k)},
		{"ladder-default", mk(nil)},
		{"golang-lru", func(k int) { gl.Get(k) }},
		{"otter", func(k int) { ot.GetIfPresent(k) }},
		{"ristretto", func(k int) { rs.Get(k) }},
	}
	const n = 4_000_000
	res := map[string][2][]float64{}
	for round := range 9 {
		for j := range impls {
			im := impls[(j+round)%len(impls)]
			r := res[im.name]
			for p, procs := range []int{1, 2} {
				c0 := cpuNow()
				var wg sync.WaitGroup
				for g := range procs {
					wg.Go(func() {
						i := g * 997
						for range n / procs {
							im.get(i & (hitKeys - 1))
							i++
						}
					})
				}
				wg.Wait()
				r[p] = append(r[p], float64(cpuNow()-c0)/n)
			}
			res[im.name] = r
		}
	}
	for _, im := range impls {
		r := res[im.name]
		slices.Sort(r[0])
		slices.Sort(r[1])
		t.Logf("%-16s serial %6.1f CPU-ns/hit   parallel(2) %6.1f CPU-ns/hit   (min %5.1f / %5.1f)", im.name, r[0][4], r[1][4], r[0][0], r[1][0])
	}
}
