package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// sums collects int64 sums by instrument name and, for load errors, by error.type.
func sums(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/ladder-go/ladder/cache" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					name := m.Name
					if v, ok := p.Attributes.Value("error.type"); ok {
						name += "/" + v.AsString()
					}
					if v, _ := p.Attributes.Value("ladder.cache.name"); v.AsString() != "users" {
						t.Errorf("%s: ladder.cache.name = %q", m.Name, v.AsString())
					}
					out[name] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] += int64(p.Count)
				}
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	store, _ := cache.NewLRU[string, int](2, cache.StoreOptions{})
	a, err := cache.New[string, int](store, cache.Options{Name: "users", MeterProvider: mp, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	src := &source{}
	a.Get(t.Context(), "a", src.load) // miss, load
	a.Get(t.Context(), "a", src.load) // hit
	a.Get(t.Context(), "b", src.load) // miss, load
	a.Get(t.Context(), "c", src.load) // miss, load, evicts b (a was used since: second chance)
	a.Get(t.Context(), "x", func(context.Context, string) (int, error) { return 0, errors.New("boom") })
	a.Get(t.Context(), "y", func(context.Context, string) (int, error) { panic("p") })
	got := sums(t, reader)
	want := map[string]int64{
		"ladder.cache.hits": 1, "ladder.cache.misses": 5, "ladder.cache.loads": 5,
		"ladder.cache.load.duration": 5, "ladder.cache.evictions": 1,
		"ladder.cache.load.errors/error": 1, "ladder.cache.load.errors/panic": 1,
		"ladder.cache.stale_served": 0, "ladder.cache.early_refreshes": 0, "ladder.cache.rejected": 0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	a.Close()
	if got := sums(t, reader); got["ladder.cache.hits"] != 0 {
		t.Errorf("observable counters still reported after Close: %v", got)
	}
}

func TestMetricsStaleAndEarly(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer mp.Shutdown(context.Background())
		a, err := cache.New[string, int](nil, cache.Options{
			Name: "users", MeterProvider: mp, TTL: 10 * time.Second,
			StaleWhileRevalidate: time.Minute, RefreshAfter: 5 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		src := &source{}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(6 * time.Second)
		a.Get(t.Context(), "k", src.load) // refresh-ahead: a hit and an early refresh
		synctest.Wait()
		a.Set(t.Context(), "s", 1, cache.Meta{})
		time.Sleep(11 * time.Second)
		a.Get(t.Context(), "s", src.load) // expired within SWR: stale served, a refresh
		synctest.Wait()
		got := sums(t, reader)
		for k, v := range map[string]int64{
			"ladder.cache.hits": 1, "ladder.cache.stale_served": 1, "ladder.cache.early_refreshes": 2,
			"ladder.cache.misses": 1, "ladder.cache.loads": 3,
		} {
			if got[k] != v {
				t.Errorf("%s = %d, want %d", k, got[k], v)
			}
		}
	})
}

// A key repeated in one GetMany is one lookup: one miss, one hit.
func TestGetManyCountsEachKeyOnce(t *testing.T) {
	a, reader := newMetered(t)
	var loaded []string
	load := func(_ context.Context, keys []string) (map[string]int, error) {
		loaded = append(loaded, keys...)
		return map[string]int{"k": 1}, nil
	}
	if _, err := a.GetMany(t.Context(), []string{"k", "k", "k"}, load); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetMany(t.Context(), []string{"k", "k"}, load); err != nil {
		t.Fatal(err)
	}
	got := sums(t, reader)
	if got["ladder.cache.misses"] != 1 || got["ladder.cache.hits"] != 1 || len(loaded) != 1 {
		t.Errorf("misses %d, hits %d, keys loaded %v; want 1, 1, [k]", got["ladder.cache.misses"], got["ladder.cache.hits"], loaded)
	}
}

// Hits are counted on stripes picked by the calling goroutine's stack; the
// total is exact however many goroutines count at once, and whether or not
// their stacks move (grow) while they do.
func TestHitsCountExactlyUnderConcurrency(t *testing.T) {
	a, reader := newMetered(t)
	keys := []string{"a", "b", "c", "d"}
	for i, k := range keys {
		a.Set(t.Context(), k, i, cache.Meta{})
	}
	const goroutines, gets = 16, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			var get func(depth, i int)
			get = func(depth, i int) { // deeper and deeper: stacks grow and move
				if depth > 0 {
					var pad [128]byte
					_ = pad
					get(depth-1, i)
					return
				}
				if _, ok := a.Lookup(keys[i%len(keys)]); !ok {
					t.Error("Lookup missed a stored key")
				}
			}
			for i := range gets {
				get((g*gets+i)%64, i)
			}
		})
	}
	wg.Wait()
	if got := sums(t, reader)["ladder.cache.hits"]; got != goroutines*gets {
		t.Errorf("hits = %d, want %d", got, goroutines*gets)
	}
}

// newMetered returns an Aside named "users" recording into an SDK reader.
func newMetered(t *testing.T) (*cache.Aside[string, int], *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	a, err := cache.New[string, int](nil, cache.Options{Name: "users", MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, reader
}
