package lb_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/health/healthtest"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func TestWatchActiveHealth(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		prober, err := health.NewProber(health.ProberOptions{Interval: time.Second, Rise: 1, Fall: 1, Jitter: -1, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer prober.Close()
		probes := map[string]*healthtest.Probe{"a": {}, "b": {}, "c": {}}
		probes["c"].SetHealthy(false) // before Add: the first probe runs at once
		for name, pr := range probes {
			if err := prober.Add(name, pr); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		p := newPool(t, backends("a,b,c"), lb.PoolOptions{PanicThreshold: -1})
		stop := p.Watch(prober)
		defer stop()
		if got := count(t, p, 90); got["c"] != 0 {
			t.Fatalf("c down before Watch, got %v", got)
		}
		probes["a"].SetHealthy(false)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := count(t, p, 90); got["a"] != 0 || got["b"] != 90 {
			t.Fatalf("a down: %v", got)
		}
		probes["a"].SetHealthy(true)
		probes["c"].SetHealthy(true)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := count(t, p, 90); got["a"] != 30 || got["c"] != 30 {
			t.Fatalf("a and c back: %v", got)
		}
	})
}

func TestProbeHTTP(t *testing.T) {
	bs := lbtest.Start(t, 2)
	healthy := map[string]bool{"b0": true, "b1": false}
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" && !healthy[b.Name] {
				w.WriteHeader(503)
			}
		})
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, PanicThreshold: -1})
	prober := newProber(t, health.ProberOptions{Interval: 10 * time.Millisecond, Rise: 1, Fall: 1})
	stop, err := lb.ProbeHTTP(pool, prober, "/healthz", health.HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	waitHealthy(t, pool, 1, 2, "b1 marked down")
	onlyPicks(t, pool, bs[0].URL)
}

// waitHealthy polls until the pool has healthy of total members eligible
// (probes run on real time), failing after 10 s.
func waitHealthy(t *testing.T, pool *lb.Pool[*url.URL], healthy, total int, what string) {
	t.Helper()
	for i := 0; ; i++ {
		if h, n := pool.Healthy(); h == healthy && n == total {
			return
		}
		if i == 2000 {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// onlyPicks checks that ten picks all return want.
func onlyPicks(t *testing.T, pool *lb.Pool[*url.URL], want *url.URL) {
	t.Helper()
	for range 10 {
		v, done, _ := pool.Pick()
		done(lb.Outcome{})
		if v != want {
			t.Fatalf("picked %v, want %v", v, want)
		}
	}
}

// ProbeHTTP follows Update: an added backend is probed (and taken out when
// it fails), a removed one is no longer probed.
func TestProbeHTTPFollowsUpdate(t *testing.T) {
	bs := lbtest.Start(t, 3)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" && b.Name == "b2" {
				w.WriteHeader(503)
			}
		})
	}
	pool := lbtest.Pool(t, bs[:2], lb.PoolOptions{Logger: quiet, PanicThreshold: -1})
	prober := newProber(t, health.ProberOptions{Interval: 10 * time.Millisecond, Rise: 1, Fall: 1})
	stop, err := lb.ProbeHTTP(pool, prober, "/healthz", health.HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	members := func(bs ...*lbtest.Backend) []lb.Backend[*url.URL] {
		var out []lb.Backend[*url.URL]
		for _, b := range bs {
			out = append(out, lb.Backend[*url.URL]{Name: b.Name, Value: b.URL})
		}
		return out
	}
	if err := pool.Update(members(bs[0], bs[2])); err != nil {
		t.Fatal(err)
	}
	if _, ok := prober.Status("b1"); ok {
		t.Error("b1 is still probed after it left the pool")
	}
	waitHealthy(t, pool, 1, 2, "b2, added by Update and failing its probe, marked down")
	onlyPicks(t, pool, bs[0].URL)
	stop()
	if err := pool.Update(members(bs[0])); err != nil {
		t.Fatal(err)
	}
	if _, ok := prober.Status("b2"); !ok {
		t.Error("after stop, Update still changed the prober's targets")
	}
}

// A failed ProbeHTTP leaves the prober as it was, so a corrected call
// succeeds; a backend whose URL becomes unusable stops being probed at its
// old URL.
func TestProbeHTTPFailureAndBadURLLater(t *testing.T) {
	good, _ := url.Parse("http://127.0.0.1:1")
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Name: "a", Value: good}, {Name: "b"}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	prober := newProber(t, health.ProberOptions{})
	if _, err := lb.ProbeHTTP(pool, prober, "/healthz", health.HTTPProbeOptions{}); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Fatalf("nil URL: err = %v", err)
	}
	if _, ok := prober.Status("a"); ok {
		t.Fatal("a failed ProbeHTTP left a probe behind")
	}
	if err := pool.Update([]lb.Backend[*url.URL]{{Name: "a", Value: good}, {Name: "b", Value: good}}); err != nil {
		t.Fatal(err)
	}
	stop, err := lb.ProbeHTTP(pool, prober, "/healthz", health.HTTPProbeOptions{})
	if err != nil {
		t.Fatalf("ProbeHTTP after the fix: %v", err)
	}
	defer stop()
	if err := pool.Update([]lb.Backend[*url.URL]{{Name: "a", Value: good}, {Name: "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := prober.Status("b"); ok {
		t.Error("b is still probed at its old URL after its URL became nil")
	}
	if _, ok := prober.Status("a"); !ok {
		t.Error("a is no longer probed")
	}
}

// newProber returns a quiet prober closed when the test ends.
func newProber(t *testing.T, opts health.ProberOptions) *health.Prober {
	t.Helper()
	opts.Logger = quiet
	prober, err := health.NewProber(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prober.Close() })
	return prober
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
