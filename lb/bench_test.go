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
// equal backends, cycling over 4096 keys: warm once their slots' owners are
// known; cold in a new pool every 4096 picks (each slot's owner computed,
// O(backends)); after-change with one backend marked down and up again
// every 4096 picks (owners inherited, compared with the newcomer only);
// rebuild is the snapshot rebuild itself on such a change.
func BenchmarkHashPick(b *testing.B) {
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = fmt.Sprint("user-", i)
	}
	for _, n := range []int{8, 100, 1000} {
		var bs []lb.Backend[string]
		for i := range n {
			bs = append(bs, lb.Backend[string]{Name: fmt.Sprint("10.0.0.", i, ":80"), Value: "x"})
		}
		newPool := func() *lb.Pool[string] {
			p, err := lb.NewPool(bs, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{}), MeterProvider: noop.NewMeterProvider(), PanicThreshold: -1})
			if err != nil {
				b.Fatal(err)
			}
			return p
		}
		pickAll := func(p *lb.Pool[string], b *testing.B, every func(*lb.Pool[string]) *lb.Pool[string]) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if i&4095 == 0 && every != nil {
					b.StopTimer()
					p = every(p)
					b.StartTimer()
				}
				_, done, _ := p.PickKey(keys[i&4095])
				done(lb.Outcome{})
				i++
			}
		}
		p := newPool()
		for _, k := range keys {
			_, done, _ := p.PickKey(k)
			done(lb.Outcome{})
		}
		b.Run(fmt.Sprint("warm/n=", n), func(b *testing.B) { pickAll(p, b, nil) })
		b.Run(fmt.Sprint("cold/n=", n), func(b *testing.B) {
			q := newPool()
			pickAll(q, b, func(q *lb.Pool[string]) *lb.Pool[string] { q.Close(); return newPool() })
		})
		down := false
		toggle := func(p *lb.Pool[string]) *lb.Pool[string] {
			down = !down
			p.SetDown(bs[n/2].Name, down)
			return p
		}
		b.Run(fmt.Sprint("after-change/n=", n), func(b *testing.B) { pickAll(p, b, toggle) })
		b.Run(fmt.Sprint("rebuild/n=", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				toggle(p)
			}
		})
		p.Close()
	}
}
