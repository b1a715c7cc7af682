package lb_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ladder-go/ladder/lb"
)

func benchPool(b *testing.B, policy lb.Policy, opts lb.PoolOptions) *lb.Pool[string] {
	var bs []lb.Backend[string]
	for i := range 8 {
		bs = append(bs, lb.Backend[string]{Name: fmt.Sprint("b", i), Value: "x", Weight: i%3 + 1})
	}
	opts.Policy = policy
	p, err := lb.NewPool(bs, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// BenchmarkPick is pick + done per policy, with telemetry off (noop
// provider) and on (the OTel SDK with a manual reader).
func BenchmarkPick(b *testing.B) {
	sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer sdk.Shutdown(context.Background())
	policies := []struct {
		name   string
		policy lb.Policy
	}{
		{"rr", lb.RoundRobin()},
		{"wrr", lb.WeightedRoundRobin()},
		{"random", lb.Random()},
		{"p2c", lb.LeastRequest()},
		{"ewma", lb.PeakEWMA(lb.PeakEWMAOptions{})},
		{"hash", lb.Hash(lb.HashOptions{})},
	}
	for _, tel := range []struct {
		name string
		opts lb.PoolOptions
	}{{"off", lb.PoolOptions{MeterProvider: noop.NewMeterProvider()}}, {"on", lb.PoolOptions{MeterProvider: sdk}}} {
		for _, pc := range policies {
			p := benchPool(b, pc.policy, tel.opts)
			b.Run(pc.name+"/telemetry-"+tel.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_, done, _ := p.PickKey("203.0.113.7")
					done(lb.Outcome{Latency: time.Millisecond})
				}
			})
		}
	}
}
