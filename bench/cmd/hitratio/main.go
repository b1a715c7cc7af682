// Command hitratio replays a request trace (or a Zipf stream) against every
// ladder cache store and against golang-lru's exact LRU, otter and
// ristretto, at several sizes, and
// prints the hit ratios as a markdown table. Use it to pick a store for your
// own access pattern before production does it for you:
//
//	go run ./cmd/hitratio                                # Zipf stream + the shipped gli trace
//	go run ./cmd/hitratio -trace keys.txt.gz -sizes 1000,10000,100000
//
// A trace is one request per line; the first field (whitespace- or
// comma-separated) is the key; .gz files are read compressed.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ladder-go/ladder/cache"
	"github.com/maypok86/otter/v2"
)

func main() {
	trace := flag.String("trace", "", "trace file (one key per line, .gz ok); empty: a Zipf stream and testdata/gli.lirs.gz")
	sizes := flag.String("sizes", "", "comma-separated cache sizes in entries (default per stream)")
	zipfS := flag.Float64("zipf-s", 1.01, "Zipf exponent s (> 1) for the synthetic stream")
	zipfN := flag.Int("zipf-n", 200_000, "requests in the synthetic stream (≤ 10 000 000)")
	flag.Parse()
	if err := run(*trace, *sizes, *zipfS, *zipfN); err != nil {
		fmt.Fprintln(os.Stderr, "hitratio:", err)
		os.Exit(1)
	}
}

type workload struct {
	name  string
	keys  []uint64
	sizes []int
}

func run(trace, sizeList string, s float64, n int) error {
	if !(s > 1) || n <= 0 || n > 10_000_000 {
		return fmt.Errorf("need -zipf-s > 1 and 0 < -zipf-n ≤ 10000000 (got %v, %d)", s, n)
	}
	var loads []workload
	if trace != "" {
		keys, err := readTrace(trace)
		if err != nil {
			return err
		}
		loads = append(loads, workload{trace, keys, []int{100, 1000, 10000}})
	} else {
		z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), s, 1, 99_999)
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = z.Uint64()
		}
		loads = append(loads, workload{fmt.Sprintf("zipf s=%v, %d keys", s, 100_000), keys, []int{1000, 5000, 20000}})
		if gli, err := readTrace("testdata/gli.lirs.gz"); err == nil {
			loads = append(loads, workload{"gli (LIRS trace)", gli, []int{250, 500, 1000}})
		}
	}
	for _, w := range loads {
		if sizeList != "" {
			sz, err := parseSizes(sizeList)
			if err != nil {
				return err
			}
			w.sizes = sz
		}
		if err := table(w); err != nil {
			return err
		}
	}
	return nil
}

func parseSizes(list string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("-sizes: %q is not a positive integer", f)
		}
		out = append(out, v)
	}
	return out, nil
}

// table prints one row per cache and one hit% column per size.
func table(w workload) error {
	fmt.Printf("### %s (%d requests)\n\n| cache |", w.name, len(w.keys))
	for _, s := range w.sizes {
		fmt.Printf(" %d |", s)
	}
	fmt.Print("\n|---|")
	for range w.sizes {
		fmt.Print("---:|")
	}
	fmt.Println()
	for _, name := range names {
		fmt.Printf("| %s |", name)
		for _, size := range w.sizes {
			p, closeFn, err := build(name, size)
			if err != nil {
				return err
			}
			hits := 0
			for _, k := range w.keys {
				if p.get(k) {
					hits++
				} else {
					p.set(k)
				}
			}
			closeFn()
			fmt.Printf(" %.2f%% |", 100*float64(hits)/float64(max(1, len(w.keys))))
		}
		fmt.Println()
	}
	fmt.Println()
	return nil
}

var names = []string{"ladder-tinylfu", "ladder-lru", "ladder-2q", "ladder-arc", "ladder-lfu", "ladder-fifo", "golang-lru (exact LRU)", "otter", "ristretto"}

type policy struct {
	get func(uint64) bool
	set func(uint64)
}

func store(s cache.Store[uint64, struct{}], err error) (policy, func(), error) {
	if err != nil {
		return policy{}, nil, err
	}
	return policy{
		get: func(k uint64) bool { _, ok := s.Get(k); return ok },
		set: func(k uint64) { s.Set(k, &cache.Entry[struct{}]{}) },
	}, func() {}, nil
}

func build(name string, size int) (policy, func(), error) {
	o := cache.StoreOptions{}
	switch name {
	case "ladder-lru":
		return store(cache.NewLRU[uint64, struct{}](size, o))
	case "ladder-tinylfu":
		return store(cache.NewTinyLFU[uint64, struct{}](size, o))
	case "ladder-2q":
		return store(cache.NewTwoQueue[uint64, struct{}](size, o))
	case "ladder-arc":
		return store(cache.NewARC[uint64, struct{}](size, o))
	case "ladder-lfu":
		return store(cache.NewLFU[uint64, struct{}](size, o))
	case "ladder-fifo":
		return store(cache.NewFIFO[uint64, struct{}](size, o))
	case "golang-lru (exact LRU)":
		c, err := lru.New[uint64, struct{}](size)
		if err != nil {
			return policy{}, nil, err
		}
		return policy{
			get: func(k uint64) bool { _, ok := c.Get(k); return ok },
			set: func(k uint64) { c.Add(k, struct{}{}) },
		}, func() {}, nil
	case "otter":
		c, err := otter.New(&otter.Options[uint64, struct{}]{MaximumSize: size})
		if err != nil {
			return policy{}, nil, err
		}
		return policy{
			get: func(k uint64) bool { _, ok := c.GetIfPresent(k); return ok },
			set: func(k uint64) { c.Set(k, struct{}{}) },
		}, func() {}, nil
	case "ristretto":
		c, err := ristretto.NewCache(&ristretto.Config[uint64, struct{}]{
			NumCounters: int64(10 * size), MaxCost: int64(size), BufferItems: 64, IgnoreInternalCost: true,
		})
		if err != nil {
			return policy{}, nil, err
		}
		// Set is asynchronous: wait so the replay measures the policy, not dropped buffers.
		return policy{
			get: func(k uint64) bool { _, ok := c.Get(k); return ok },
			set: func(k uint64) { c.Set(k, struct{}{}, 1); c.Wait() },
		}, c.Close, nil
	}
	return policy{}, nil, fmt.Errorf("unknown cache %q", name)
}
