package lb_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// rawGet sends a request with exactly the given header lines, so that
// spellings net/http would not produce (underscores, repeats) reach the proxy.
func rawGet(t *testing.T, addr, target string, headers ...string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: front.example\r\nConnection: close\r\n", target)
	for _, h := range headers {
		fmt.Fprintf(conn, "%s\r\n", h)
	}
	fmt.Fprint(conn, "\r\n")
	b, _ := io.ReadAll(conn)
	_, body, _ := strings.Cut(string(b), "\r\n\r\n")
	return body
}

func TestProxyStripsOtherForwardingHeadersFromUntrustedPeers(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		var got []string
		for k, v := range r.Header {
			if lk := strings.ToLower(k); strings.Contains(lk, "forwarded") || strings.Contains(lk, "real") {
				got = append(got, k+"="+strings.Join(v, "|"))
			}
		}
		fmt.Fprint(w, strings.Join(got, ";"))
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	body := rawGet(t, front.URL, "/",
		"X-Forwarded-Port: 443", "X-Forwarded-Prefix: /admin", "X-Forwarded-Server: evil",
		"X-Forwarded-Ssl: on", "X_Forwarded_For: 6.6.6.6", "X-Real_IP: 6.6.6.6", "x_forwarded_host: evil")
	for _, bad := range []string{"443", "/admin", "evil", "Ssl", "6.6.6.6"} {
		if strings.Contains(body, bad) {
			t.Errorf("backend saw spoofed %q: %s", bad, body)
		}
	}
}

func TestProxyForwardedHostFromTrustedPeerIsValidated(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoHeaders)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	loopback, _ := lb.ParseTrusted("127.0.0.1")
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, TrustedProxies: loopback})
	for _, tt := range []struct {
		hdrs []string
		want string
	}{
		{[]string{"X-Forwarded-Host: a.example"}, "host=a.example"},
		{[]string{"X-Forwarded-Host: evil.example, a.example"}, "host=a.example"},
		{[]string{"X-Forwarded-Host: evil.example", "X-Forwarded-Host: a.example"}, "host=a.example"},
		{[]string{"X-Forwarded-Host: a b"}, "host=front.example"},
		{[]string{"X-Forwarded-Proto: http, https"}, "proto=https"},
		{[]string{"X-Forwarded-Proto: https", "X-Forwarded-Proto: gopher"}, "proto=http"},
	} {
		if body := rawGet(t, front.URL, "/", tt.hdrs...); !strings.Contains(body, tt.want+" ") {
			t.Errorf("%q: backend saw %q, want %s", tt.hdrs, body, tt.want)
		}
	}
}

func TestUpdateKeepsHealthState(t *testing.T) {
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{})
	p.SetDown("a", true)
	fail(t, p, "b", 5, lb.Outcome{Status: 503})
	if h, _ := p.Healthy(); h != 2 {
		t.Fatalf("healthy %d, want 2", h)
	}
	if err := p.Update(backends("a,b,c,d", 2, 2, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if h, _ := p.Healthy(); h != 2 {
		t.Errorf("after a weight change %d healthy, want 2: a down and b ejected", h)
	}
	if n := count(t, p, 100); n["a"]+n["b"] != 0 {
		t.Errorf("picks %v: a is down and b ejected", n)
	}
}

func TestNilAndZeroPool(t *testing.T) {
	var nilPool *lb.Pool[string]
	if err := nilPool.Close(); err != nil {
		t.Error(err)
	}
	if _, _, err := nilPool.Pick(); err != lb.ErrNoBackend {
		t.Error(err)
	}
	if nilPool.SetDown("a", true) {
		t.Error("nil pool has a backend")
	}
	zero := &lb.Pool[string]{}
	if err := zero.Close(); err != nil {
		t.Error(err)
	}
	if _, _, err := zero.PickKey("k"); err != lb.ErrNoBackend {
		t.Error(err)
	}
	if err := zero.Update(backends("a")); err == nil {
		t.Error("zero pool accepted Update")
	}
}

func TestProxyDoesNotRetryOnTheSameBackend(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != 503 {
		t.Errorf("status %d", code)
	}
	if n := bs[0].Hits.Load(); n != 1 {
		t.Errorf("the only backend was tried %d times, want 1: retries go to a different backend", n)
	}
}

func TestClientLeavingMidBodyIsNotABackendFailure(t *testing.T) {
	bs := lbtest.Start(t, 2)
	started := make(chan struct{}, 10)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("partial"))
			http.NewResponseController(w).Flush()
			started <- struct{}{}
			<-r.Context().Done()
		})
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: 1},
		Policy: lb.LeastRequest()}) // counts in flight, which the loop below waits on
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", front.URL, nil)
		resp, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		<-started
		buf := make([]byte, 7)
		io.ReadFull(resp.Body, buf)
		cancel()
		resp.Body.Close()
		waitIdle(t, pool)
	}
	if h, _ := pool.Healthy(); h != 2 {
		t.Errorf("%d healthy: clients hanging up ejected a backend", h)
	}
}

// silentSource is a HealthSource whose unsubscribe does not close the channel.
type silentSource struct{ ch chan health.Transition }

func (s silentSource) Subscribe(int) (<-chan health.Transition, func()) { return s.ch, func() {} }
func (s silentSource) Status(string) (health.Status, bool)              { return health.StatusUnknown, false }

func TestCloseDoesNotWaitForAForeignHealthSource(t *testing.T) {
	p := newPool(t, backends("a,b"), lb.PoolOptions{})
	p.Watch(silentSource{ch: make(chan health.Transition)})
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on a source whose unsubscribe keeps the channel open")
	}
}

func TestProxyEmptyHashKeySpreads(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.Hash(lb.HashOptions{})})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, HashKey: lb.HeaderKey("X-User")})
	for range 60 {
		get(t, front.Client(), mustReq(t, "GET", front.URL))
	}
	for _, b := range bs {
		if b.Hits.Load() == 0 {
			t.Errorf("requests without a key all went to one backend: %s got none", b.Name)
		}
	}
}

func TestParseTrustedMappedPrefix(t *testing.T) {
	tr, err := lb.ParseTrusted("::ffff:10.0.0.0/104")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:80"
	r.Header.Set("X-Forwarded-For", "1.1.1.1")
	if got := lb.ClientIP(r, tr).String(); got != "1.1.1.1" {
		t.Errorf("ClientIP = %s: an IPv4-mapped prefix trusts nothing", got)
	}
}

type nopObserver struct{ metric.Observer }

func (nopObserver) ObserveInt64(metric.Int64Observable, int64, ...metric.ObserveOption)       {}
func (nopObserver) ObserveFloat64(metric.Float64Observable, float64, ...metric.ObserveOption) {}

// registering is a provider recording nothing that keeps the registered
// callback, for the test to call as a reader's collection would.
type registering struct {
	noop.MeterProvider
	cb *metric.Callback
}

func (r registering) Meter(string, ...metric.MeterOption) metric.Meter {
	return registeringMeter{cb: r.cb}
}

type registeringMeter struct {
	noop.Meter
	cb *metric.Callback
}

func (m registeringMeter) RegisterCallback(f metric.Callback, _ ...metric.Observable) (metric.Registration, error) {
	*m.cb = f
	return noop.Meter{}.RegisterCallback(f)
}

func TestInFlightCountedOnlyWhenRead(t *testing.T) {
	for _, tt := range []struct {
		name   string
		opts   lb.PoolOptions
		counts bool
	}{
		{"round robin", lb.PoolOptions{}, false},
		{"round robin with MaxInFlight", lb.PoolOptions{MaxInFlight: 100}, true},
		{"least request", lb.PoolOptions{Policy: lb.LeastRequest()}, true},
		{"peak ewma", lb.PoolOptions{Policy: lb.PeakEWMA(lb.PeakEWMAOptions{})}, true},
		{"custom", lb.PoolOptions{Policy: lb.PolicyFunc(func(lb.PickerConfig) lb.Picker { return lastPicker{n: 1} })}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.MeterProvider = noop.NewMeterProvider()
			p := newPool(t, backends("a"), tt.opts)
			_, done, err := p.Pick()
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Endpoints()[0].InFlight(); got != map[bool]int64{true: 1}[tt.counts] {
				t.Errorf("InFlight = %d during the request", got)
			}
			done(lb.Outcome{})
			if got := p.Endpoints()[0].InFlight(); got != 0 {
				t.Errorf("InFlight = %d after done", got)
			}
			if a := testing.AllocsPerRun(100, func() {
				_, done, _ := p.Pick()
				done(lb.Outcome{Latency: time.Millisecond})
			}); a != 0 {
				t.Errorf("%v allocations per pick and done", a)
			}
		})
	}
}

func TestTelemetryFoundRecordingMidRequest(t *testing.T) {
	var cb metric.Callback
	p := newPool(t, backends("a"), lb.PoolOptions{MeterProvider: registering{cb: &cb}})
	_, before, _ := p.Pick()                                        // not counted: nothing records yet
	if err := cb(context.Background(), nopObserver{}); err != nil { // a first collection
		t.Fatal(err)
	}
	_, during, _ := p.Pick() // counted
	if got := p.Endpoints()[0].InFlight(); got != 1 {
		t.Errorf("InFlight = %d, want 1", got)
	}
	before(lb.Outcome{})
	during(lb.Outcome{})
	if got := p.Endpoints()[0].InFlight(); got != 0 {
		t.Errorf("InFlight = %d after both finished, want 0", got)
	}
}

// waitIdle waits until no request is in flight on any backend of pool: the
// proxy has finished with every request the test sent.
func waitIdle[T any](t *testing.T, pool *lb.Pool[T]) {
	t.Helper()
	for i := 0; ; i++ {
		in := int64(0)
		for _, e := range pool.Endpoints() {
			in += e.InFlight()
		}
		if in == 0 {
			return
		}
		if i > 5000 {
			t.Fatal("request never finished")
		}
		time.Sleep(time.Millisecond)
	}
}
