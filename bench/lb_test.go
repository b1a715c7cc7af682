package bench

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
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kratos/kratos/v2/registry"
	"github.com/go-kratos/kratos/v2/selector"
	kp2c "github.com/go-kratos/kratos/v2/selector/p2c"
	krandom "github.com/go-kratos/kratos/v2/selector/random"
	kwrr "github.com/go-kratos/kratos/v2/selector/wrr"
	"github.com/ladder-go/ladder/lb"
	zhash "github.com/zeromicro/go-zero/core/hash"
)

const lbBackends = 8

func lbWeight(i int) int { return i%3 + 1 }

func ladderPool(b *testing.B, policy lb.Policy) *lb.Pool[string] {
	var bs []lb.Backend[string]
	for i := range lbBackends {
		name := fmt.Sprintf("10.0.0.%d:8080", i+1)
		bs = append(bs, lb.Backend[string]{Name: name, Value: name, Weight: lbWeight(i)})
	}
	p, err := lb.NewPool(bs, lb.PoolOptions{Policy: policy})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

func kratosSelector(sel selector.Selector) selector.Selector {
	var nodes []selector.Node
	for i := range lbBackends {
		addr := fmt.Sprintf("10.0.0.%d:8080", i+1)
		ins := &registry.ServiceInstance{ID: addr, Name: "svc", Endpoints: []string{"http://" + addr},
			Metadata: map[string]string{"weight": strconv.Itoa(lbWeight(i))}}
		nodes = append(nodes, selector.NewNode("http", addr, ins))
	}
	sel.Apply(nodes)
	return sel
}

var lbKeys = func() []string {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("203.0.%d.%d", i/256, i%256)
	}
	return keys
}()

// BenchmarkPick measures one pick plus its done callback per op, serial and
// parallel (-parallel variants), against Kratos's selectors and go-zero's
// consistent hash.
func BenchmarkPick(b *testing.B) {
	type bench struct {
		name string
		op   func(i int)
	}
	ctx := context.Background()
	ladder := func(policy lb.Policy) func(int) {
		p := ladderPool(b, policy)
		return func(int) {
			_, done, err := p.Pick()
			if err != nil {
				b.Fatal(err)
			}
			done(lb.Outcome{})
		}
	}
	ladderEWMA := func() func(int) {
		p := ladderPool(b, lb.PeakEWMA(lb.PeakEWMAOptions{}))
		return func(i int) {
			_, done, err := p.Pick()
			if err != nil {
				b.Fatal(err)
			}
			done(lb.Outcome{Latency: 1000 + lbLatency(i)})
		}
	}
	kratos := func(sel selector.Selector) func(int) {
		sel = kratosSelector(sel)
		return func(int) {
			_, done, err := sel.Select(ctx)
			if err != nil {
				b.Fatal(err)
			}
			done(ctx, selector.DoneInfo{})
		}
	}
	hashPool := ladderPool(b, lb.Hash(lb.HashOptions{}))
	zring := zhash.NewConsistentHash()
	for i := range lbBackends {
		zring.Add(fmt.Sprintf("10.0.0.%d:8080", i+1))
	}
	benches := []bench{
		{"ladder-rr", ladder(lb.RoundRobin())},
		{"ladder-wrr", ladder(lb.WeightedRoundRobin())},
		{"kratos-wrr", kratos(kwrr.New())},
		{"ladder-random", ladder(lb.Random())},
		{"kratos-random", kratos(krandom.New())},
		{"ladder-p2c", ladder(lb.LeastRequest())},
		{"kratos-p2c", kratos(kp2c.New())},
		{"ladder-ewma", ladderEWMA()},
		{"ladder-hash", func(i int) {
			_, done, err := hashPool.PickKey(lbKeys[i&1023])
			if err != nil {
				b.Fatal(err)
			}
			done(lb.Outcome{})
		}},
		{"gozero-hash", func(i int) {
			if _, ok := zring.Get(lbKeys[i&1023]); !ok {
				b.Fatal("empty ring")
			}
		}},
	}
	for _, bb := range benches {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				bb.op(i)
				i++
			}
		})
	}
	for _, bb := range benches {
		b.Run(bb.name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			parallel(b, func(seed uint64, n int) {
				i := int(seed >> 1)
				for range n {
					bb.op(i)
					i++
				}
			})
		})
	}
}

// lbLatency varies reported latency a little so the EWMA keeps moving.
func lbLatency(i int) time.Duration { return time.Duration(i&7) * time.Microsecond }

// BenchmarkProxy is one GET through a reverse proxy to a loopback backend:
// ladder's lb.Proxy (round robin over three backends, outlier detection,
// retries) against a bare httputil.ReverseProxy on the same transport.
func BenchmarkProxy(b *testing.B) {
	var urls []*url.URL
	for range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "ok")
		}))
		b.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		urls = append(urls, u)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	b.Cleanup(tr.CloseIdleConnections)
	var bs []lb.Backend[*url.URL]
	for _, u := range urls {
		bs = append(bs, lb.Backend[*url.URL]{Value: u})
	}
	pool, err := lb.NewPool(bs, lb.PoolOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Close() })
	var next atomic.Uint64
	bare := &httputil.ReverseProxy{Transport: tr, Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(urls[next.Add(1)%uint64(len(urls))])
		pr.SetXForwarded()
	}}
	quiet := slog.New(slog.DiscardHandler)
	for _, p := range []struct {
		name string
		h    http.Handler
	}{
		{"ladder-rr", &lb.Proxy{Pool: pool, Transport: tr, Logger: quiet}},
		{"httputil-rr", bare},
	} {
		front := httptest.NewServer(p.h)
		b.Cleanup(front.Close)
		client := front.Client()
		client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Get(front.URL)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		})
	}
}
