package observe_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/observe"
	"github.com/ladder-go/ladder/shard"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The advisor and the page read what the real packages emit (names,
// attributes, kinds), with no wiring: an lb pool, a cache and a hot-shard
// tracker record to one provider, and their signals and sections appear.
// (Only this test imports siblings; package observe imports none.)
func TestAdvisorAndPageReadTheRealPackages(t *testing.T) {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	// Least request tracks every direct pick in flight; a round robin
	// pool's in-flight gauge counts lb.Proxy's and lb.Transport's tries.
	pool, err := lb.NewPool([]lb.Backend[string]{{Name: "web-1", Value: "a"}, {Name: "web-2", Value: "b"}},
		lb.PoolOptions{Policy: lb.LeastRequest(), MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, _ := cache.NewLRU[int, int](8, cache.StoreOptions{})
	c, err := cache.New[int, int](store, cache.Options{MeterProvider: mp, Name: "users"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	hot, err := shard.NewHot([]string{"s0", "s1", "s2"}, shard.HotOptions{MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	defer hot.Close()

	adv, _ := observe.NewAdvisor(reader, observe.AdvisorOptions{})
	page, _ := observe.NewPage(reader, observe.PageOptions{Advisor: adv})
	if _, err := adv.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	var held []func(lb.Outcome)
	for range 10 {
		_, done, err := pool.Pick()
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, done) // in flight while the advisor looks
	}
	load := func(_ context.Context, k int) (int, error) { return k, nil }
	for i := range 100 {
		if _, err := c.Get(ctx, i%20, load); err != nil { // 20 keys in an 8-entry cache
			t.Fatal(err)
		}
		hot.Record(0, uint64(i)) // every request to shard s0
	}
	rep, err := adv.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for sig, want := range map[string]float64{observe.SigWebInstances: 2, observe.SigLBInflight: 5} {
		if got, ok := rep.Signals[sig]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", sig, got, ok, want)
		}
	}
	for _, sig := range []string{observe.SigCacheHit, observe.SigCacheEvictMiss, observe.SigShardSkew} {
		if _, ok := rep.Signals[sig]; !ok {
			t.Errorf("signal %s missing: %v", sig, rep.Signals)
		}
	}
	if rep.Signals[observe.SigShardSkew] < 2 {
		t.Errorf("one shard took every request, skew %v", rep.Signals[observe.SigShardSkew])
	}
	rec := httptest.NewRecorder()
	page.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, id := range []string{"backends", "cache", "shards", "advice"} {
		if !strings.Contains(body, fmt.Sprintf(`id="%s"`, id)) {
			t.Errorf("page lacks section %s", id)
		}
	}
	for _, done := range held {
		done(lb.Outcome{})
	}
}
