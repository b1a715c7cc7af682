package lb_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// An h2c upgrade tunnelled to a backend would let the client send HTTP/2
// requests the proxy never sees (h2c smuggling): it must not be forwarded.
func TestProxyRefusesH2CUpgrade(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upgrade=%q settings=%q", r.Header.Get("Upgrade"), r.Header.Get("Http2-Settings"))
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	for _, up := range []string{"h2c", "H2C", "websocket, h2c"} {
		body := rawGet(t, front.URL, "/", "Connection: Upgrade, HTTP2-Settings", "Upgrade: "+up, "HTTP2-Settings: AAMAAABkAAQAAP__")
		if body != `upgrade="" settings=""` {
			t.Errorf("Upgrade: %s: backend saw %s", up, body)
		}
	}
}

func TestStickyCookieAttacks(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet,
		Sticky: &lb.StickyOptions{Key: []byte("0123456789abcdef0123")}})
	send := func(v string) (string, string) {
		req := mustReq(t, "GET", front.URL)
		if v != "" {
			req.AddCookie(&http.Cookie{Name: "lb_sticky", Value: v})
		}
		_, body, h := get(t, front.Client(), req)
		return body, h.Get("Set-Cookie")
	}
	tokens := map[string]string{} // backend → token
	for len(tokens) < 3 {
		body, set := send("")
		tokens[body] = strings.TrimPrefix(strings.SplitN(set, ";", 2)[0], "lb_sticky=")
	}
	seen := map[string]bool{}
	for b, tok := range tokens {
		if seen[tok] || strings.Contains(tok, b) {
			t.Fatalf("token %q of %s is not opaque and distinct", tok, b)
		}
		seen[tok] = true
		for _, bad := range []string{tok[:len(tok)-1], tok + "A", strings.ToUpper(tok), tok[:21] + string(tok[21]^1), " " + tok} {
			if _, set := send(bad); set == "" {
				t.Errorf("tampered cookie %q (of %s) accepted", bad, b)
			}
		}
	}
	// Replay onto a removed backend: balanced elsewhere with a new cookie.
	if err := pool.Update(lbtest.Backends(bs[1:])); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if body, set := send(tokens["b0"]); body == "b0" || set == "" {
			t.Fatalf("cookie of removed b0: served by %s, Set-Cookie %q", body, set)
		}
	}
	// Another key (another deployment) does not honour these cookies.
	other := serve(t, &lb.Proxy{Pool: pool, Logger: quiet,
		Sticky: &lb.StickyOptions{Key: []byte("another-key-of-20-bytes")}})
	req := mustReq(t, "GET", other.URL)
	req.AddCookie(&http.Cookie{Name: "lb_sticky", Value: tokens["b1"]})
	if _, _, h := get(t, other.Client(), req); h.Get("Set-Cookie") == "" {
		t.Error("cookie signed with another key accepted")
	}
}

func TestClientIPKeyOfUnparseablePeerIsEmpty(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@" // a unix socket peer
	if k := lb.ClientIPKey(nil)(r); k != "" {
		t.Errorf("key %q: every such request would hash to one backend", k)
	}
}

func TestUpdateDuringPicks(t *testing.T) {
	for _, pol := range []lb.Policy{lb.RoundRobin(), lb.WeightedRoundRobin(), lb.LeastRequest(), lb.PeakEWMA(lb.PeakEWMAOptions{}), lb.Hash(lb.HashOptions{RendezvousMax: 2}), lb.Random()} {
		p := newPool(t, backends("a,b,c"), lb.PoolOptions{Policy: pol, MaxInFlight: 2, Zones: []string{"z"}, Rand: rand.Uint64})
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					_, done, err := p.PickKey(fmt.Sprint(i))
					if err == nil {
						done(lb.Outcome{Status: 500 * (i % 2), Latency: 1})
					}
				}
			})
		}
		sets := []string{"a,b,c", "a", "", "b,c,d,e", "a,b,c,d,e,f,g"}
		for i := range 50 {
			bs := []lb.Backend[string]{}
			if s := sets[i%len(sets)]; s != "" {
				bs = backends(s, 1+i%3, math.MaxInt32, 0)
			}
			if err := p.Update(bs); err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		wg.Wait()
		p.Update(backends("a,b,c"))
		for _, e := range p.Endpoints() {
			if e.InFlight() != 0 {
				t.Errorf("%T: %s InFlight %d after all done", pol, e.Name(), e.InFlight())
			}
		}
	}
}

func TestHugeWeights(t *testing.T) {
	for _, pol := range []lb.Policy{lb.RoundRobin(), lb.WeightedRoundRobin(), lb.LeastRequest(), lb.PeakEWMA(lb.PeakEWMAOptions{}), lb.Hash(lb.HashOptions{}), lb.Random(), lb.FirstAvailable()} {
		p := newPool(t, backends("a,b,c", math.MaxInt, 1, math.MaxInt/3), lb.PoolOptions{Policy: pol})
		got := count(t, p, 300)
		if got["a"] == 0 {
			t.Errorf("%T: %v", pol, got)
		}
	}
}

func TestProbeHTTPNilURL(t *testing.T) {
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Name: "nil"}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	prober := newProber(t, health.ProberOptions{})
	if _, err := lb.ProbeHTTP(pool, prober, "/healthz", health.HTTPProbeOptions{}); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Errorf("nil URL: %v", err)
	}
}

func TestProxyZonedPeer(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoHeaders)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	h := &lb.Proxy{Pool: pool, Logger: quiet}
	r := httptest.NewRequest("GET", "http://front.example/", nil)
	r.RemoteAddr = "[fe80::1%eth0]:4242"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Body.String(); got != "xff=fe80::1 host=front.example proto=http real=fe80::1" {
		t.Errorf("backend saw %q: a zone is no part of an address a backend can parse", got)
	}
}

// msgs is a slog handler recording messages.
type msgs struct {
	mu  sync.Mutex
	got []string
}

func (m *msgs) Enabled(context.Context, slog.Level) bool { return true }
func (m *msgs) Handle(_ context.Context, r slog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, r.Message)
	return nil
}
func (m *msgs) WithAttrs([]slog.Attr) slog.Handler { return m }
func (m *msgs) WithGroup(string) slog.Handler      { return m }

func TestTimersStopAtClose(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		log := &msgs{}
		p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{Logger: slog.New(log),
			SlowStart: lb.SlowStartOptions{Window: time.Minute}})
		fail(t, p, "a", 5, lb.Outcome{Status: 503})
		// A weight change moves the ejection to a new endpoint.
		if err := p.Update(backends("a,b,c,d,e", 2)); err != nil {
			t.Fatal(err)
		}
		p.Close()
		time.Sleep(time.Hour)
		synctest.Wait()
		log.mu.Lock()
		defer log.mu.Unlock()
		for _, m := range log.got {
			if strings.Contains(m, "readmitted") {
				t.Errorf("after Close: %q", m)
			}
		}
		if h, n := p.Healthy(); h != 4 || n != 5 {
			t.Errorf("Healthy() = %d/%d after Close, want the last snapshot's 4/5", h, n)
		}
	})
}

func TestClientLeavingBeforeHeadersIsNotABackendFailure(t *testing.T) {
	for _, perTry := range []time.Duration{0, time.Hour} {
		bs := lbtest.Start(t, 2)
		arrived := make(chan struct{}, 10)
		for _, b := range bs {
			b.Handle(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				<-r.Context().Done()
			})
		}
		pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: 1},
			Policy: lb.LeastRequest()})
		front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{PerTryTimeout: perTry}})
		for range 4 {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL, nil)
			go func() { <-arrived; cancel() }()
			if resp, err := front.Client().Do(req); err == nil {
				resp.Body.Close()
			}
			waitIdle(t, pool)
		}
		if h, _ := pool.Healthy(); h != 2 {
			t.Errorf("per-try %v: %d healthy: clients hanging up ejected a backend", perTry, h)
		}
	}
}
