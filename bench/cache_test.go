package bench

import (
	"context"
	"testing"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ladder-go/ladder/cache"
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

// BenchmarkHit is the hit path: ladder's Aside.Get over its LRU store (TTL
// set, so the clock is read) against a bare golang-lru Cache.Get.
func BenchmarkHit(b *testing.B) {
	ctx := context.Background()
	b.Run("ladder-lru", func(b *testing.B) {
		s, _ := cache.NewLRU[int, int](hitKeys, cache.StoreOptions{})
		a := newLadder(b, s, cache.Options{TTL: time.Hour})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			a.Get(ctx, i&(hitKeys-1), loadInt)
			i++
		}
	})
	b.Run("ladder-lru-nottl", func(b *testing.B) {
		s, _ := cache.NewLRU[int, int](hitKeys, cache.StoreOptions{})
		a := newLadder(b, s, cache.Options{})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			a.Get(ctx, i&(hitKeys-1), loadInt)
			i++
		}
	})
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
