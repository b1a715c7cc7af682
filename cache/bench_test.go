package cache_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// BenchmarkGetHit measures the hit path with telemetry off (noop provider)
// and on (the OTel SDK with a reader), with and without a TTL.
func BenchmarkGetHit(b *testing.B) {
	for _, tel := range []string{"off", "sdk"} {
		for _, ttl := range []time.Duration{0, time.Hour} {
			b.Run(fmt.Sprintf("otel=%s/ttl=%v", tel, ttl), func(b *testing.B) {
				var mp metric.MeterProvider = noop.NewMeterProvider()
				if tel == "sdk" {
					sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
					defer sdk.Shutdown(context.Background())
					mp = sdk
				}
				store, _ := cache.NewLRU[int, int](1024, cache.StoreOptions{})
				a, _ := cache.New(store, cache.Options{TTL: ttl, MeterProvider: mp})
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
}

// BenchmarkMiss is the miss path: a load per call (new key each time).
func BenchmarkMiss(b *testing.B) {
	store, _ := cache.NewLRU[int, int](1024, cache.StoreOptions{})
	a, _ := cache.New(store, cache.Options{TTL: time.Hour, MeterProvider: noop.NewMeterProvider()})
	defer a.Close()
	load := func(ctx context.Context, k int) (int, error) { return k, nil }
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		a.Get(ctx, i, load)
		i++
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

// BenchmarkStoreChurn is the write path of a full store: keys drawn from a
// range 4× the bound, a Get each, and a Set (with its eviction) on a miss,
// at 10 000 and 1 000 000 entries.
//
//	go test -run '^$' -bench 'BenchmarkStoreChurn' ./cache/
func BenchmarkStoreChurn(b *testing.B) {
	for _, size := range []int{10_000, 1_000_000} {
		for name, newStore := range stores {
			b.Run(fmt.Sprintf("%s-%d", name, size), func(b *testing.B) {
				s, _ := newStore(size, cache.StoreOptions{})
				e := &cache.Entry[int]{}
				keys := make([]string, 4*size)
				for i := range keys {
					keys[i] = strconv.Itoa(i)
				}
				for i := range size {
					s.Set(keys[i], e)
				}
				b.ReportAllocs()
				x := uint64(1)
				for b.Loop() {
					x ^= x << 13
					x ^= x >> 7
					x ^= x << 17
					k := keys[x%uint64(len(keys))]
					if _, ok := s.Get(k); !ok {
						s.Set(k, e)
					}
				}
			})
		}
	}
}
