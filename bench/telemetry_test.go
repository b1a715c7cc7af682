package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ladder-go/ladder/bench/internal/edgeh"
	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/shard"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// BenchmarkTelemetry measures each package's hot path twice in one run:
// "off" with a noop MeterProvider, "sdk" with the OTel SDK recording into
// a ManualReader (cumulative temporality, as a Prometheus exporter reads).
// The bar (../shared/BENCH.md): sdk costs ≤ 1.10× off on every path. The
// results table pairs <pkg>-<path>/sdk with <pkg>-<path>/off.
//
// The reader is collected once before and once after the loop, so the
// observable callbacks run (as a scrape would) but off the measured path,
// and a path that records nothing with the SDK on fails the benchmark.
func BenchmarkTelemetry(b *testing.B) {
	for _, p := range telemetryPaths {
		for _, mode := range []string{"off", "sdk"} {
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				var mp metric.MeterProvider = noop.NewMeterProvider()
				var reader *sdkmetric.ManualReader
				if mode == "sdk" {
					reader = sdkmetric.NewManualReader()
					sdk := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
					b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
					mp = sdk
				}
				op := p.setup(b, mp)
				op(0) // warm: first session, first pick, connections
				if reader != nil {
					collect(b, reader)
				}
				b.ReportAllocs()
				if p.parallel {
					parallel(b, func(seed uint64, n int) {
						for i := range n {
							op(int(seed) + i)
						}
					})
				} else {
					i := 0
					for b.Loop() {
						op(i)
						i++
					}
				}
				if reader != nil && p.metric != "" {
					if rm := collect(b, reader); !hasMetric(rm, p.metric) {
						b.Fatalf("%s not recorded with the SDK on", p.metric)
					}
				}
			})
		}
	}
}

func collect(b *testing.B, r *sdkmetric.ManualReader) *metricdata.ResourceMetrics {
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		b.Fatal(err)
	}
	return &rm
}

func hasMetric(rm *metricdata.ResourceMetrics, name string) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return true
			}
		}
	}
	return false
}

// A telemetryPath builds one hot path on a provider and returns one
// operation of it, the i-th (i picks a key); metric names an instrument the
// path feeds (checked with the SDK on), "" for a path with no telemetry of
// its own. A parallel path runs its operations on every core at once.
type telemetryPath struct {
	name     string
	metric   string
	setup    func(b *testing.B, mp metric.MeterProvider) func(i int)
	parallel bool
}

var telemetryPaths = []telemetryPath{
	{"lb-pick-rr", "ladder.lb.requests", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return lbPickDone(b, mp, lb.RoundRobin())
	}, false},
	{"lb-pick-p2c", "ladder.lb.requests", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return lbPickDone(b, mp, lb.LeastRequest())
	}, false},
	{"lb-pick-ewma", "ladder.lb.requests", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return lbPickDone(b, mp, lb.PeakEWMA(lb.PeakEWMAOptions{}))
	}, false},
	{"lb-pick-rr-parallel", "ladder.lb.requests", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return lbPickDone(b, mp, lb.RoundRobin())
	}, true},
	{"lb-pick-p2c-parallel", "ladder.lb.requests", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return lbPickDone(b, mp, lb.LeastRequest())
	}, true},
	{"lb-proxy", "ladder.lb.request.duration", telemetryProxy, false},
	{"health-breaker", "ladder.health.breaker.state", func(b *testing.B, mp metric.MeterProvider) func(int) {
		br, err := health.NewGoBreaker("bench", health.GoBreakerOptions{Logger: quiet, MeterProvider: mp})
		if err != nil {
			b.Fatal(err)
		}
		return breakerOp(b, br)
	}, false},
	{"health-throttle", "", func(b *testing.B, mp metric.MeterProvider) func(int) {
		th, err := health.NewThrottle("bench", health.ThrottleOptions{Logger: quiet, MeterProvider: mp})
		if err != nil {
			b.Fatal(err)
		}
		return breakerOp(b, th)
	}, false},
	{"health-check", "ladder.health.check.duration", func(b *testing.B, mp metric.MeterProvider) func(int) {
		c, err := health.NewChecker(health.CheckerOptions{Logger: quiet, MeterProvider: mp, CacheTTL: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		if err := c.Add(health.Check{Name: "db", Func: func(context.Context) error { return nil }}); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		return func(int) {
			if r := c.Report(ctx); r.Status != health.StatusUp {
				b.Fatalf("status %v", r.Status)
			}
		}
	}, false},
	{"cache-hit", "ladder.cache.hits", func(b *testing.B, mp metric.MeterProvider) func(int) {
		a := telemetryCache(b, mp)
		ctx := context.Background()
		for i := range 1024 {
			a.Get(ctx, i, loadInt)
		}
		return func(i int) {
			a.Get(ctx, i&1023, loadInt)
		}
	}, false},
	{"cache-load", "ladder.cache.loads", func(b *testing.B, mp metric.MeterProvider) func(int) {
		a := telemetryCache(b, mp)
		ctx := context.Background()
		return func(i int) { // every Get misses: one load through singleflight
			a.Get(ctx, i, loadInt)
		}
	}, false},
	{"assets-hit", "ladder.assets.requests", telemetryAssets, false},
	{"edge-hit", "ladder.edge.requests", func(b *testing.B, mp metric.MeterProvider) func(int) {
		// cache/edge serving a stored 1 KiB object, in process (as BenchmarkEdge)
		ob := edgeh.Objects[0]
		serve, newReq := edgeHit(b, mp, ob, http.MethodGet, false)
		w, r := newEdgeWriter(), newReq()
		return func(int) { serve(w, r) }
	}, false},
	{"replica-select", "ladder.replica.queries", telemetryReplica, false},
	{"session-read", "ladder.session.store.duration", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return telemetrySession(b, mp, false)
	}, false},
	{"session-write", "ladder.session.store.duration", func(b *testing.B, mp metric.MeterProvider) func(int) {
		return telemetrySession(b, mp, true)
	}, false},
	{"shard-lookup", "", func(b *testing.B, _ metric.MeterProvider) func(int) {
		// The Router has no telemetry of its own: the row shows the path
		// costs nothing more with the SDK installed.
		m, err := shard.NewMap(1, shardNames(16), mustStrategy(shard.NewJump(16)))
		if err != nil {
			b.Fatal(err)
		}
		r := shard.NewRouter(m)
		keys := telemetryKeys()
		return func(i int) {
			r.Map().Shard(shard.KeyBytes(keys[i&1023]))
		}
	}, false},
	{"shard-hot", "ladder.shard.request.rate", func(b *testing.B, mp metric.MeterProvider) func(int) {
		h, err := shard.NewHot(shardNames(16), shard.HotOptions{MeterProvider: mp})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { h.Close() })
		keys := telemetryKeys()
		return func(i int) {
			k := shard.KeyBytes(keys[i&1023])
			h.Record(i&15, k)
		}
	}, false},
}

func mustStrategy(s shard.Strategy, err error) shard.Strategy {
	if err != nil {
		panic(err)
	}
	return s
}

func telemetryKeys() [][]byte {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%d", 1_000_000+i*7919)
	}
	return keys
}

// lbPickDone is one pick and its done with a latency, as lb.Proxy and
// lb.Transport report it.
func lbPickDone(b *testing.B, mp metric.MeterProvider, policy lb.Policy) func(int) {
	var bs []lb.Backend[string]
	for i := range lbBackends {
		name := fmt.Sprintf("10.0.0.%d:8080", i+1)
		bs = append(bs, lb.Backend[string]{Name: name, Value: name, Weight: lbWeight(i)})
	}
	p, err := lb.NewPool(bs, lb.PoolOptions{Policy: policy, MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return func(i int) {
		_, done, err := p.Pick()
		if err != nil {
			b.Fatal(err)
		}
		done(lb.Outcome{Status: 200, Latency: lbLatency(i) + time.Microsecond})
	}
}

// telemetryProxy is one GET through lb.Proxy to a loopback backend.
func telemetryProxy(b *testing.B, mp metric.MeterProvider) func(int) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	b.Cleanup(tr.CloseIdleConnections)
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Close() })
	// With the SDK on, tracing is on too: a client span per try, batched
	// to an exporter that drops them (the proxy's own cost, not an
	// exporter's).
	var tp trace.TracerProvider = tracenoop.NewTracerProvider()
	if _, ok := mp.(*sdkmetric.MeterProvider); ok {
		sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		b.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
		tp = sdk
	}
	front := httptest.NewServer(&lb.Proxy{Pool: pool, Transport: tr, Logger: quiet, TracerProvider: tp})
	b.Cleanup(front.Close)
	client := front.Client()
	return func(int) {
		resp, err := client.Get(front.URL)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func breakerOp(b *testing.B, br health.Breaker) func(int) {
	ctx := context.Background()
	return func(int) {
		done, err := br.Allow(ctx)
		if err != nil {
			b.Fatal(err)
		}
		done(nil)
	}
}

func telemetryCache(b *testing.B, mp metric.MeterProvider) *cache.Aside[int, int] {
	store, err := cache.NewLRU[int, int](1<<12, cache.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	a, err := cache.New(store, cache.Options{TTL: time.Hour, MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.Close() })
	return a
}

// telemetrySession serves one request carrying a session cookie through the
// middleware over a MemoryStore; write puts a value on every request.
func telemetrySession(b *testing.B, mp metric.MeterProvider, write bool) func(int) {
	store, err := session.NewMemoryStore(session.MemoryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	m, err := session.New(store, session.Options{MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n, _ := session.Get[int](s, "n")
		if write || n == 0 {
			if err := session.Put(s, "n", n+1); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}
	}))
	serve := func(cookie *http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "http://example.com/", nil)
		req.RemoteAddr = net.JoinHostPort("127.0.0.1", "1")
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		return rec
	}
	var cookie *http.Cookie
	for _, c := range serve(nil).Result().Cookies() {
		if c.Name == "session" {
			cookie = c
		}
	}
	if cookie == nil {
		b.Fatal("no session cookie")
	}
	return func(int) { serve(cookie) }
}

// telemetryReplica is one point select routed to a replica. The databases
// are an in-process driver answering one row without I/O, so the figure is
// the router's own cost (a real select over loopback is ~50 µs, which would
// hide any telemetry cost: BenchmarkReplicaPointSelect measures that).
func telemetryReplica(b *testing.B, mp metric.MeterProvider) func(int) {
	primary, standby := sql.OpenDB(oneRowConnector{}), sql.OpenDB(oneRowConnector{})
	b.Cleanup(func() { primary.Close(); standby.Close() })
	r, err := replica.New(primary, []replica.Replica{{Name: "standby", DB: standby}},
		replica.Options{MeterProvider: mp, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	ctx := context.Background()
	return func(int) {
		var v int64
		if err := r.QueryRowContext(ctx, "SELECT v FROM t WHERE k = $1", 1).Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
}

// oneRowConnector is a database/sql driver whose every query returns one
// row of one int64 column, with no I/O.
type oneRowConnector struct{}

func (oneRowConnector) Connect(context.Context) (driver.Conn, error) { return oneRowConn{}, nil }
func (oneRowConnector) Driver() driver.Driver                        { return oneRowDriver{} }

type oneRowDriver struct{}

func (oneRowDriver) Open(string) (driver.Conn, error) { return oneRowConn{}, nil }

type oneRowConn struct{}

func (oneRowConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (oneRowConn) Close() error                        { return nil }
func (oneRowConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }
func (oneRowConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &oneRow{}, nil
}
func (oneRowConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(1), nil
}

type oneRow struct{ done bool }

func (*oneRow) Columns() []string { return []string{"v"} }
func (*oneRow) Close() error      { return nil }
func (r *oneRow) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0] = int64(1)
	return nil
}
