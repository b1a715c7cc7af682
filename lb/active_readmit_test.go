package lb_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/health/healthtest"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// readmits collects the reasons of "backend readmitted" log records.
type readmits struct {
	slog.Handler
	reasons chan string
}

func (h readmits) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "lb: backend readmitted" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "reason" {
				select {
				case h.reasons <- a.Value.String():
				default:
				}
			}
			return true
		})
	}
	return nil
}

func (readmits) Enabled(context.Context, slog.Level) bool { return true }

func (h readmits) WithAttrs([]slog.Attr) slog.Handler { return h }

// A passing active probe readmits a backend that passive health ejected
// while its probe status stayed Up (so no transition does it): it takes
// traffic again at the next probe, not when its 30 s ejection ends.
func TestProbePassReadmitsEjectedBackend(t *testing.T) {
	bs := lbtest.Start(t, 2)
	h := readmits{Handler: slog.DiscardHandler, reasons: make(chan string, 1)}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: slog.New(h), PanicThreshold: -1,
		Outlier: lb.OutlierOptions{Consecutive: 1}})
	prober := newProber(t, health.ProberOptions{Interval: 20 * time.Millisecond, Rise: 1, Fall: 1})
	stop, err := lb.ProbeHTTP(pool, prober, "/", health.HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for i := 0; ; i++ { // the first transition (Unknown to Up) readmits too: wait for it
		if st, _ := prober.Status(bs[0].Name); st == health.StatusUp {
			break
		}
		if i == 2000 {
			t.Fatal("b0 never Up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 10 { // round robin: b0 within two picks
		v, done, err := pool.Pick()
		if err != nil {
			t.Fatal(err)
		}
		if v == bs[0].URL {
			done(lb.Outcome{Status: 500})
			break
		}
		done(lb.Outcome{})
	}
	if h, _ := pool.Healthy(); h == 2 {
		t.Log("readmitted already") // by a probe in between, or never ejected: the log tells
	}
	select {
	case reason := <-h.reasons:
		if reason != "active health check passed" {
			t.Errorf("readmitted: %s, want by the passing probe", reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ejected backend was not readmitted by its passing probes")
	}
	waitHealthy(t, pool, 2, 2, "readmission")
}

// A backend that passive health ejected, then active health marked Down,
// is readmitted by its transition back to Up through Pool.Watch (any
// health source, not only ProbeHTTP), not when its 30 s ejection ends.
func TestWatchUpReadmitsEjectedBackend(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		prober, err := health.NewProber(health.ProberOptions{Interval: time.Second, Rise: 1, Fall: 1, Jitter: -1, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer prober.Close()
		probes := map[string]*healthtest.Probe{"a": {}, "b": {}}
		for name, pr := range probes {
			if err := prober.Add(name, pr); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		p := newPool(t, backends("a,b"), lb.PoolOptions{PanicThreshold: -1, Outlier: lb.OutlierOptions{Consecutive: 1}})
		stop := p.Watch(prober)
		defer stop()
		fail(t, p, "a", 1, lb.Outcome{Status: 503})
		probes["a"].SetHealthy(false)
		time.Sleep(time.Second)
		synctest.Wait()
		probes["a"].SetHealthy(true)
		time.Sleep(time.Second)
		synctest.Wait()
		if got := count(t, p, 20); got["a"] != 10 {
			t.Fatalf("a Up again 2s after its ejection: %v, want it readmitted", got)
		}
	})
}
