package assets_test

import (
	"context"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	a := mustNew(t, site(t), assets.Options{MeterProvider: mp})
	css := mustURL(t, a, "css/site.css")
	do(a, "GET", css)                                                  // hashed, 15 bytes
	do(a, "GET", css, "Range", "bytes=0-3")                            // hashed, 4 bytes
	do(a, "HEAD", css)                                                 // hashed, 0 bytes
	do(a, "GET", "/assets/css/site.css")                               // logical, 15 bytes
	etag := do(a, "HEAD", "/assets/css/site.css").Header().Get("ETag") // logical
	do(a, "GET", css, "If-None-Match", etag)                           // not_modified
	do(a, "GET", "/assets/nope")                                       // not_found
	do(a, "POST", css)                                                 // method_not_allowed
	do(a, "GET", css, "If-Match", `"other"`)                           // precondition_failed
	do(a, "GET", css, "Range", "bytes=100-")                           // range_not_satisfiable

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/ladder-go/ladder/cache/assets" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok || !sum.IsMonotonic {
				t.Errorf("%s: %T, want a monotonic int64 sum", m.Name, m.Data)
				continue
			}
			for _, p := range sum.DataPoints {
				k := m.Name
				if v, ok := p.Attributes.Value("ladder.assets.result"); ok {
					k += "/" + v.AsString()
				}
				got[k] += p.Value
			}
		}
	}
	want := map[string]int64{
		"ladder.assets.requests/hashed":                3,
		"ladder.assets.requests/logical":               2,
		"ladder.assets.requests/not_modified":          1,
		"ladder.assets.requests/not_found":             1,
		"ladder.assets.requests/method_not_allowed":    1,
		"ladder.assets.requests/precondition_failed":   1,
		"ladder.assets.requests/range_not_satisfiable": 1,
		"ladder.assets.sent":                           34, // the assets' bytes, not error texts
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	// Close unregisters the callback (twice is fine); serving goes on.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	rm = metricdata.ResourceMetrics{}
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && len(sum.DataPoints) > 0 {
				t.Errorf("%s still observed after Close", m.Name)
			}
		}
	}
	if do(a, "GET", css).Code != 200 {
		t.Error("Close stopped serving")
	}
}
