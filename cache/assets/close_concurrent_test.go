package assets_test

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/cache/assets"
)

// Serving, collecting and Close at once, with an SDK and a noop provider
// (run with -race; goleak checks nothing is left behind).
func TestCloseWhileServingAndCollecting(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	for name, o := range map[string]assets.Options{"sdk": {MeterProvider: mp}, "noop": {MeterProvider: noop.NewMeterProvider()}} {
		t.Run(name, func(t *testing.T) {
			a := mustNew(t, site(t), o)
			js := mustURL(t, a, "js/app.js")
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 200 {
						if w := do(a, "GET", js, "Accept-Encoding", []string{"br", "gzip", ""}[(g+i)%3]); w.Code != 200 {
							t.Errorf("%d", w.Code)
							return
						}
					}
				})
			}
			wg.Go(func() {
				for range 50 {
					var rm metricdata.ResourceMetrics
					if err := reader.Collect(context.Background(), &rm); err != nil {
						t.Error(err)
						return
					}
				}
			})
			wg.Go(func() {
				if err := a.Close(); err != nil {
					t.Error(err)
				}
			})
			wg.Wait()
			if err := a.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}
