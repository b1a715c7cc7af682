package cache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
)

func BenchmarkGetHit(b *testing.B) {
	for _, ttl := range []time.Duration{0, time.Hour} {
		b.Run(fmt.Sprint("ttl=", ttl), func(b *testing.B) {
			store, _ := cache.NewLRU[int, int](1024, cache.StoreOptions{})
			a, _ := cache.New(store, cache.Options{TTL: ttl})
			defer a.Close()
			load := func(ctx context.Context, k int) (int, error) { return k, nil }
			ctx := context.Background()
			for i := range 1024 {
				a.Get(ctx, i, load)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				a.Get(ctx, i&1023, load)
				i++
			}
		})
	}
}

func BenchmarkStoreGet(b *testing.B) {
	for name, newStore := range stores {
		b.Run(name, func(b *testing.B) {
			s, _ := newStore(1024, cache.StoreOptions{})
			keys := make([]string, 1024)
			for i := range keys {
				keys[i] = fmt.Sprint(i)
				s.Set(keys[i], &cache.Entry[int]{Value: i})
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				s.Get(keys[i&1023])
				i++
			}
		})
	}
}
