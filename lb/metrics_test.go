package lb_test

import (
	"context"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// sums returns, per instrument, the int64 values by backend.
func sums(t *testing.T, r *sdkmetric.ManualReader) map[string]map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			by := map[string]int64{}
			var points []metricdata.DataPoint[int64]
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				points = d.DataPoints
			case metricdata.Gauge[int64]:
				points = d.DataPoints
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					v, _ := p.Attributes.Value(lb.AttrBackend)
					by[v.AsString()] = int64(p.Count)
				}
			}
			for _, p := range points {
				v, _ := p.Attributes.Value(lb.AttrBackend)
				by[v.AsString()] = p.Value
			}
			out[m.Name] = by
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	p := newPool(t, backends("a,b"), lb.PoolOptions{MeterProvider: mp})
	fail(t, p, "a", 5, lb.Outcome{Status: 500, Latency: time.Millisecond})
	before := sums(t, reader)["ladder.lb.requests"]["b"] // b's picks while fail looked for a
	_, held, _ := p.Pick()                               // b, in flight
	got := sums(t, reader)
	if got["ladder.lb.errors"]["a"] != 5 || got["ladder.lb.backend.ejections"]["a"] != 1 {
		t.Errorf("errors %v, ejections %v", got["ladder.lb.errors"], got["ladder.lb.backend.ejections"])
	}
	if got["ladder.lb.requests"]["a"] != 5 {
		t.Errorf("requests %v", got["ladder.lb.requests"])
	}
	// done records no latency histogram: Proxy and Transport do (see
	// TestProxyRecordsLatency), where a request costs microseconds.
	if len(got["ladder.lb.request.duration"]) != 0 {
		t.Errorf("durations %v recorded by done", got["ladder.lb.request.duration"])
	}
	// Requests count when they start. Round robin reads no in-flight
	// counts, so a direct pick of its pool is not tracked in flight: the
	// gauge counts Proxy and Transport tries (TestProxyCountsInFlight) and
	// every pick of a policy that weighs load.
	if got["ladder.lb.requests"]["b"] != before+1 || got["ladder.lb.inflight"]["b"] != 0 {
		t.Errorf("while held: requests %v, inflight %v", got["ladder.lb.requests"], got["ladder.lb.inflight"])
	}
	held(lb.Outcome{})
	got = sums(t, reader)
	if got["ladder.lb.requests"]["b"] != before+1 || got["ladder.lb.inflight"]["b"] != 0 {
		t.Errorf("after done: requests %v, inflight %v", got["ladder.lb.requests"], got["ladder.lb.inflight"])
	}
}

// A policy weighing load tracks every pick in flight, and the gauge shows it.
func TestMetricsInFlightOfLoadPolicy(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	p := newPool(t, backends("a"), lb.PoolOptions{Policy: lb.LeastRequest(), MeterProvider: mp})
	_, held, _ := p.Pick()
	if got := sums(t, reader); got["ladder.lb.inflight"]["a"] != 1 || got["ladder.lb.requests"]["a"] != 1 {
		t.Errorf("while held: inflight %v, requests %v", got["ladder.lb.inflight"], got["ladder.lb.requests"])
	}
	held(lb.Outcome{})
	if got := sums(t, reader); got["ladder.lb.inflight"]["a"] != 0 || got["ladder.lb.requests"]["a"] != 1 {
		t.Errorf("after done: inflight %v, requests %v", got["ladder.lb.inflight"], got["ladder.lb.requests"])
	}
}

// A pool whose backend is replaced (its weight changes) keeps its
// requests counter going.
func TestMetricsRequestsSurviveUpdate(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	p := newPool(t, backends("a"), lb.PoolOptions{MeterProvider: mp})
	sums(t, reader) // a first collection: picks count from now on
	for range 3 {
		_, done, _ := p.Pick()
		done(lb.Outcome{})
	}
	if err := p.Update(backends("a", 2)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		_, done, _ := p.Pick()
		done(lb.Outcome{})
	}
	if got := sums(t, reader)["ladder.lb.requests"]["a"]; got != 5 {
		t.Errorf("requests = %d after an update, want 5", got)
	}
}

func TestProxyRecordsLatency(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	bs := lbtest.Start(t, 2)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, MeterProvider: mp})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	for range 4 {
		if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL+"/x")); code != 200 {
			t.Fatalf("status %d", code)
		}
	}
	got := sums(t, reader)
	var n int64
	for _, c := range got["ladder.lb.request.duration"] {
		n += c
	}
	if n != 4 || len(got["ladder.lb.request.duration"]) != 2 {
		t.Errorf("durations %v, want 4 over 2 backends", got["ladder.lb.request.duration"])
	}
}

type nopObserver struct{ metric.Observer }

func (nopObserver) ObserveInt64(metric.Int64Observable, int64, ...metric.ObserveOption) {}

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

// Picks on every core, with their dones called from other goroutines (as a
// proxied response body is closed), count every request once and leave
// nothing in flight, whichever policy (round robin counts telemetry in
// per-goroutine cells, least request in the word it reads).
func TestMetricsCountConcurrentPicks(t *testing.T) {
	for _, policy := range []lb.Policy{lb.RoundRobin(), lb.LeastRequest()} {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		p := newPool(t, backends("a,b,c"), lb.PoolOptions{Policy: policy, MeterProvider: mp, Rand: rand.Uint64})
		const workers, each = 8, 500
		dones := make(chan func(lb.Outcome), 64)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range each {
					_, done, err := p.Pick()
					if err != nil {
						t.Error(err)
						return
					}
					dones <- done
				}
			})
		}
		finished := make(chan struct{})
		go func() {
			for d := range dones {
				d(lb.Outcome{Status: 200})
			}
			close(finished)
		}()
		wg.Wait()
		close(dones)
		<-finished
		got := sums(t, reader)
		var n int64
		for _, e := range p.Endpoints() {
			n += got["ladder.lb.requests"][e.Name()]
			if got["ladder.lb.inflight"][e.Name()] != 0 || e.InFlight() != 0 {
				t.Errorf("%T: %s: %d in flight after every done", policy, e.Name(), e.InFlight())
			}
		}
		if n != workers*each {
			t.Errorf("%T: requests = %d, want %d", policy, n, workers*each)
		}
		mp.Shutdown(context.Background())
	}
}
