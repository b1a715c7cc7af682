package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	rediscachepeer "github.com/go-redis/cache/v9"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ladder-go/ladder/bench/internal/hitrate"
	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/maypok86/otter/v2"
	"github.com/redis/go-redis/v9"
)

const hitKeys = 1024

func loadInt(ctx context.Context, k int) (int, error) { return k, nil }

func newLadder(b *testing.B, store cache.Store[int, int], opts cache.Options) *cache.Aside[int, int] {
	b.Helper()
	a, err := cache.New(store, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	for i := range hitKeys {
		a.Get(context.Background(), i, loadInt)
	}
	return a
}

// BenchmarkHit is the hit path: ladder's Aside.Get over its LRU and
// TinyLFU stores against a bare golang-lru Cache.Get. ladder-lru and
// ladder-tinylfu set a TTL, so each hit judges expiry by the cache's coarse
// clock (one atomic load); -exactclock reads the monotonic clock on every
// hit instead (Options.ExactClock); -nottl is like for like with
// golang-lru's Cache, which has no expiry.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	lruStore := func() cache.Store[int, int] { s, _ := cache.NewLRU[int, int](hitKeys, cache.StoreOptions{}); return s }
	tinyStore := func() cache.Store[int, int] {
		s, _ := cache.NewTinyLFU[int, int](hitKeys, cache.StoreOptions{})
		return s
	}
	for _, v := range []struct {
		name  string
		store func() cache.Store[int, int]
		opts  cache.Options
	}{
		{"ladder-lru", lruStore, cache.Options{TTL: time.Hour}},
		{"ladder-lru-exactclock", lruStore, cache.Options{TTL: time.Hour, ExactClock: true}},
		{"ladder-lru-nottl", lruStore, cache.Options{}},
		{"ladder-tinylfu", tinyStore, cache.Options{TTL: time.Hour}},
		{"ladder-tinylfu-nottl", tinyStore, cache.Options{}},
	} {
		b.Run(v.name, func(b *testing.B) {
			a := newLadder(b, v.store(), v.opts)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a.Get(ctx, i&(hitKeys-1), loadInt)
				i++
			}
		})
	}
	b.Run("golang-lru-lru", func(b *testing.B) {
		c, _ := lru.New[int, int](hitKeys)
		for i := range hitKeys {
			c.Add(i, i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c.Get(i & (hitKeys - 1))
			i++
		}
	})
}

// BenchmarkParallelHit is read throughput from every core: ladder's Aside
// over a sharded LRU, an LRU and a TinyLFU, and over the default store
// (cache.New with a nil store), against otter and ristretto as they come
// (both shard internally). The peers are named -default so that
// cmd/results sets them against ladder-default, the store users get.
func BenchmarkParallelHit(b *testing.B) {
	ctx := context.Background()
	par := func(b *testing.B, get func(int)) {
		b.ReportAllocs()
		parallel(b, func(seed uint64, n int) {
			i := int(seed % hitKeys)
			for range n {
				get(i & (hitKeys - 1))
				i++
			}
		})
	}
	for _, v := range []struct {
		name string
		opts cache.Options
	}{
		{"ladder-sharded", cache.Options{TTL: time.Hour}},
		{"ladder-sharded-exactclock", cache.Options{TTL: time.Hour, ExactClock: true}},
		{"ladder-sharded-nottl", cache.Options{}},
	} {
		b.Run(v.name, func(b *testing.B) {
			s, _ := cache.NewShardedLRU[int, int](64, 4*hitKeys, cache.StoreOptions{})
			a := newLadder(b, s, v.opts)
			par(b, func(k int) { a.Get(ctx, k, loadInt) })
		})
	}
	b.Run("ladder-lru", func(b *testing.B) {
		s, _ := cache.NewLRU[int, int](4*hitKeys, cache.StoreOptions{})
		a := newLadder(b, s, cache.Options{TTL: time.Hour})
		par(b, func(k int) { a.Get(ctx, k, loadInt) })
	})
	b.Run("ladder-tinylfu", func(b *testing.B) {
		s, _ := cache.NewTinyLFU[int, int](4*hitKeys, cache.StoreOptions{})
		a := newLadder(b, s, cache.Options{TTL: time.Hour})
		par(b, func(k int) { a.Get(ctx, k, loadInt) })
	})
	b.Run("ladder-default", func(b *testing.B) {
		a := newLadder(b, nil, cache.Options{TTL: time.Hour})
		par(b, func(k int) { a.Get(ctx, k, loadInt) })
	})
	b.Run("otter-default", func(b *testing.B) {
		c := otter.Must(&otter.Options[int, int]{MaximumSize: 4 * hitKeys})
		for i := range hitKeys {
			c.Set(i, i)
		}
		par(b, func(k int) { c.GetIfPresent(k) })
	})
	b.Run("ristretto-default", func(b *testing.B) {
		c, _ := ristretto.NewCache(&ristretto.Config[int, int]{NumCounters: 40 * hitKeys, MaxCost: 4 * hitKeys, BufferItems: 64, IgnoreInternalCost: true})
		b.Cleanup(c.Close)
		for i := range hitKeys {
			c.Set(i, i, 1)
		}
		c.Wait()
		par(b, func(k int) { c.Get(k) })
	})
}

// BenchmarkHitRatio replays every stream of bench/cmd/hitratio (the gli
// trace and the synthetic shapes, bench/internal/hitrate) against every
// ladder store and against golang-lru, otter and ristretto, at three sizes
// each, and reports hit% (the figure that matters; ns/op is per replay).
// Each iteration replays through a fresh cache: scripts/bench runs it with
// -benchtime 1x -count N, so N replays and benchstat their median.
func BenchmarkHitRatio(b *testing.B) {
	streams, err := hitrate.Streams("testdata")
	if err != nil {
		b.Fatal(err)
	}
	for _, st := range streams {
		for _, size := range st.Sizes {
			for _, c := range hitrate.Caches {
				b.Run(fmt.Sprintf("%s-%s-%d", c.Name, st.Name, size), func(b *testing.B) {
					var hit float64
					for b.Loop() {
						p, err := c.New(size)
						if err != nil {
							b.Fatal(err)
						}
						hit = hitrate.Replay(p, st.Keys)
						p.Close()
					}
					b.ReportMetric(hit, "hit%")
				})
			}
		}
	}
}

// BenchmarkStampede: per iteration, 1000 goroutines miss one new key at
// once; loads/op counts loader calls. -local is one process (floor 1),
// against otter's deduplicating loader. -two-tier spreads the callers over
// two instances of a local + Redis cache (floor 2: both libraries
// deduplicate within a process), against go-redis/cache; it needs
// LADDER_REDIS_ADDR.
func BenchmarkStampede(b *testing.B) {
	const callers, instances = 1000, 2
	var loads atomic.Int64
	loader := func() (string, error) {
		loads.Add(1)
		time.Sleep(2 * time.Millisecond) // the database query
		return "value", nil
	}
	var runs atomic.Int64 // b.Run may call a sub-benchmark several times: keys never repeat
	run := func(b *testing.B, get func(inst int, key string) error) {
		b.ReportAllocs()
		loads.Store(0)
		id := runs.Add(1)
		n := 0
		for b.Loop() {
			key := fmt.Sprint("k", id, "-", n)
			n++
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range callers {
				wg.Go(func() {
					<-start
					if err := get(i%instances, key); err != nil {
						b.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
		}
		b.ReportMetric(float64(loads.Load())/float64(n), "loads/op")
	}
	b.Run("ladder-local", func(b *testing.B) {
		a, err := cache.New[string, string](nil, cache.Options{TTL: time.Minute})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { a.Close() })
		load := func(ctx context.Context, key string) (string, error) { return loader() }
		run(b, func(_ int, key string) error { _, err := a.Get(context.Background(), key, load); return err })
	})
	b.Run("otter-local", func(b *testing.B) {
		c := otter.Must(&otter.Options[string, string]{MaximumSize: 10_000})
		load := otter.LoaderFunc[string, string](func(ctx context.Context, key string) (string, error) { return loader() })
		run(b, func(_ int, key string) error { _, err := c.Get(context.Background(), key, load); return err })
	})

	addr := os.Getenv("LADDER_REDIS_ADDR")
	if addr == "" {
		b.Log("LADDER_REDIS_ADDR not set: skipping the two-tier (Redis) variants")
		return
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	b.Cleanup(func() { rdb.Close() })
	prefix := fmt.Sprintf("ladder-bench:%d:", time.Now().UnixNano())
	b.Cleanup(func() {
		ctx := context.Background()
		for it := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator(); it.Next(ctx); {
			rdb.Del(ctx, it.Val())
		}
	})
	b.Run("ladder-two-tier", func(b *testing.B) {
		var insts []*rediscache.Cache[string]
		for range instances {
			c, err := rediscache.New[string](rdb, nil, rediscache.Options{Prefix: prefix + "ladder:", L1: cache.Options{TTL: time.Minute}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			insts = append(insts, c)
		}
		load := func(ctx context.Context, key string) (string, error) { return loader() }
		run(b, func(inst int, key string) error {
			_, err := insts[inst].Get(context.Background(), key, load)
			return err
		})
	})
	b.Run("go-redis-cache-two-tier", func(b *testing.B) {
		var insts []*rediscachepeer.Cache
		for range instances {
			insts = append(insts, rediscachepeer.New(&rediscachepeer.Options{
				Redis: rdb, LocalCache: rediscachepeer.NewTinyLFU(10_000, time.Minute),
			}))
		}
		run(b, func(inst int, key string) error {
			var v string
			return insts[inst].Once(&rediscachepeer.Item{
				Key: prefix + "peer:" + key, Value: &v, TTL: time.Minute,
				Do: func(*rediscachepeer.Item) (any, error) { return loader() },
			})
		})
	})
}
