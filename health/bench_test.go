package health

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// Hot paths with telemetry off (no-op provider) and on (the OTel SDK).
func benchProviders() []struct {
	name string
	mp   metric.MeterProvider
} {
	return []struct {
		name string
		mp   metric.MeterProvider
	}{
		{"otel-off", noop.NewMeterProvider()},
		{"otel-on", sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))},
	}
}

func BenchmarkBreaker(b *testing.B) {
	ctx := context.Background()
	for _, p := range benchProviders() {
		gb, _ := NewGoBreaker("bench", GoBreakerOptions{MeterProvider: p.mp, Logger: quiet})
		th, _ := NewThrottle("bench", ThrottleOptions{MeterProvider: p.mp, Logger: quiet})
		// A throttle rejecting every call: the rejection path records a metric.
		rejecting, _ := NewThrottle("bench", ThrottleOptions{MeterProvider: p.mp, Logger: quiet, K: 1, Rand: func() uint64 { return 0 }})
		for range 1000 {
			if done, err := rejecting.Allow(ctx); err == nil {
				done(errBackend)
			}
		}
		for _, bc := range []struct {
			name string
			br   Breaker
			ok   bool
		}{{"gobreaker-allow", gb, true}, {"sre-allow", th, true}, {"sre-reject", rejecting, false}} {
			b.Run(bc.name+"/"+p.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					done, err := bc.br.Allow(ctx)
					if (err == nil) != bc.ok {
						b.Fatal(err)
					}
					if done != nil {
						done(nil)
					}
				}
			})
		}
	}
}

func BenchmarkProberStatus(b *testing.B) {
	p := &Prober{cfg: ProberOptions{Logger: quiet}}
	defer p.Close()
	_ = p.Add("a", ProbeFunc(func(context.Context) error { return nil }))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := p.Status("a"); !ok {
				b.Error("missing")
				return
			}
		}
	})
}

func BenchmarkCheckerReportCached(b *testing.B) {
	for _, p := range benchProviders() {
		b.Run(p.name, func(b *testing.B) {
			c, _ := NewChecker(CheckerOptions{MeterProvider: p.mp, Logger: quiet, CacheTTL: 1 << 62})
			defer c.Close()
			_ = c.Add(Check{Name: "db", Func: func(context.Context) error { return nil }})
			_ = c.Add(Check{Name: "cache", Func: func(context.Context) error { return nil }})
			c.Report(context.Background())
			b.ReportAllocs()
			for b.Loop() {
				c.Report(context.Background())
			}
		})
	}
}

func BenchmarkCheckerStatus(b *testing.B) {
	c, _ := NewChecker(CheckerOptions{Logger: quiet})
	defer c.Close()
	_ = c.Add(Check{Name: "db", Func: func(context.Context) error { return nil }})
	c.Report(context.Background())
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c.Status() != StatusUp {
				b.Error("not up")
				return
			}
		}
	})
}
