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

// BenchmarkHashPick is a keyed pick + done over pools of 8, 100 and 1000
// equal backends: warm cycles over 4096 keys whose slots are known, cold
// picks a slot never picked before in that snapshot (its owner is computed,
// O(backends)).
func BenchmarkHashPick(b *testing.B) {
	for _, n := range []int{8, 100, 1000} {
		var bs []lb.Backend[string]
		for i := range n {
			bs = append(bs, lb.Backend[string]{Name: fmt.Sprint("10.0.0.", i, ":80"), Value: "x"})
		}
		p, err := lb.NewPool(bs, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{}), MeterProvider: noop.NewMeterProvider()})
		if err != nil {
			b.Fatal(err)
		}
		keys := make([]string, 4096)
		for i := range keys {
			keys[i] = fmt.Sprint("user-", i)
		}
		b.Run(fmt.Sprint("warm/n=", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				_, done, _ := p.PickKey(keys[i&4095])
				done(lb.Outcome{})
				i++
			}
		})
		b.Run(fmt.Sprint("cold/n=", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i&4095 == 0 {
					b.StopTimer()
					p.Update(bs) // a new snapshot: every slot unknown again
					b.StartTimer()
				}
				_, done, _ := p.PickKey(keys[i&4095])
				done(lb.Outcome{})
				i++
			}
		})
		p.Close()
	}
}
