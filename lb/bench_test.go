package lb_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
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

// cannedTransport answers every request with the same small response, in
// memory: BenchmarkProxy measures the proxies' own work per request, not
// the network's.
type cannedTransport struct{}

const cannedBody = "hello from a loopback backend, 64 bytes of payload to proxy...\n"

func (cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"text/plain"}, "Content-Length": {strconv.Itoa(len(cannedBody))}},
		Body:          io.NopCloser(strings.NewReader(cannedBody)),
		ContentLength: int64(len(cannedBody)),
		Request:       r,
	}, nil
}

// discardWriter is a ResponseWriter that keeps nothing but its header map,
// cleared for each request as a server's would be new.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }

// BenchmarkProxy is one GET through lb.Proxy (round robin over three
// backends, with its defaults: outlier detection, retries, the stall
// watch, trace propagation through the global propagator) and through a
// bare httputil.ReverseProxy setting the same X-Forwarded-* headers, both
// on an in-memory transport: the proxy's own CPU and allocations per
// request, without the network and net/http's connection handling.
func BenchmarkProxy(b *testing.B) {
	var bs []lb.Backend[*url.URL]
	var urls []*url.URL
	for i := range 3 {
		u := &url.URL{Scheme: "http", Host: fmt.Sprintf("10.0.0.%d:8080", i+1)}
		urls = append(urls, u)
		bs = append(bs, lb.Backend[*url.URL]{Value: u})
	}
	pool, err := lb.NewPool(bs, lb.PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Close() })
	var next atomic.Uint64
	bare := &httputil.ReverseProxy{Transport: cannedTransport{}, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(urls[next.Add(1)%uint64(len(urls))])
		pr.SetXForwarded()
	}}
	for _, p := range []struct {
		name string
		h    http.Handler
	}{
		{"ladder-rr", &lb.Proxy{Pool: pool, Transport: cannedTransport{}, Logger: slog.New(slog.DiscardHandler)}},
		{"httputil-rr", bare},
	} {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				ctx, cancel := context.WithCancel(context.Background()) // as a server's request has
				defer cancel()
				r := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://proxy.example/api/v1/items?page=2", nil)
				r.RemoteAddr = "192.0.2.10:50000"
				r.Header.Set("User-Agent", "wrk")
				r.Header.Set("Accept", "*/*")
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					clear(w.h)
					p.h.ServeHTTP(w, r)
					if w.code != http.StatusOK {
						b.Fatalf("status %d", w.code)
					}
				}
			})
		})
	}
}
