package lb

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/lb"

// Attribute keys of the lb metrics.
const (
	AttrBackend = attribute.Key("ladder.lb.backend")
	AttrZone    = attribute.Key("ladder.lb.zone")
)

type poolMetrics struct {
	duration  metric.Float64Histogram
	ejections metric.Int64Counter
	retries   metric.Int64Counter
	reg       metric.Registration
	// live is set once the provider is seen recording: an instrument
	// enabled at creation, or a collection calling back. Picks read it
	// instead of asking the provider, one atomic load rather than calls
	// through the global delegate.
	live atomic.Bool
	// mu serialises collections' widening of the endpoints' wrapping
	// started counts (Endpoint.reqSeen, reqTotal).
	mu sync.Mutex
}

// endpointMetrics holds one backend's precomputed attribute options.
type endpointMetrics struct {
	add   []metric.AddOption
	rec   []metric.RecordOption
	attrs attribute.Set
}

// newPoolMetrics creates the instruments; visit walks the current members
// for the observed ones.
func newPoolMetrics(mp metric.MeterProvider, inflight func(func(*Endpoint))) (*poolMetrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	pm := &poolMetrics{}
	var err error
	must := func(e error) {
		if err == nil && e != nil {
			err = fmt.Errorf("lb: metrics: %w", e)
		}
	}
	// Requests, errors and in flight are counted by atomics on the endpoint
	// (requests and in flight in one word a policy weighing load updates
	// anyway) and observed at collection. Latency is recorded by Proxy and
	// Transport, whose requests cost microseconds, not by done: a histogram
	// record costs more than a whole pick (docs/CONVENTIONS.md, Telemetry).
	reqs, err := m.Int64ObservableCounter("ladder.lb.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Requests completed per backend."))
	errs, e := m.Int64ObservableCounter("ladder.lb.errors", metric.WithUnit("{request}"),
		metric.WithDescription("Requests that failed per backend (errors and 5xx)."))
	must(e)
	pm.duration, e = m.Float64Histogram("ladder.lb.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Time to response headers of each try through Proxy or Transport, per backend."))
	must(e)
	pm.ejections, e = m.Int64Counter("ladder.lb.backend.ejections", metric.WithUnit("{ejection}"),
		metric.WithDescription("Outlier ejections per backend."))
	must(e)
	pm.retries, e = m.Int64Counter("ladder.lb.retries", metric.WithUnit("{request}"),
		metric.WithDescription("Retried attempts per backend that failed first."))
	must(e)
	g, e := m.Int64ObservableGauge("ladder.lb.inflight", metric.WithUnit("{request}"),
		metric.WithDescription("Requests in flight per backend."))
	must(e)
	if err != nil {
		return nil, err
	}
	pm.live.Store(pm.duration.Enabled(bg) || pm.retries.Enabled(bg))
	pm.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		if !pm.live.Load() {
			pm.live.Store(true) // a reader collects: count from now on
		}
		inflight(func(ep *Endpoint) {
			set := metric.WithAttributeSet(ep.met.attrs)
			o.ObserveInt64(g, ep.InFlight(), set)
			o.ObserveInt64(reqs, int64(pm.completed(ep)), set)
			o.ObserveInt64(errs, ep.errors.Load(), set)
		})
		return nil
	}, g, reqs, errs)
	if err != nil {
		return nil, fmt.Errorf("lb: metrics: %w", err)
	}
	return pm, nil
}

func (pm *poolMetrics) close() {
	if pm.reg != nil {
		_ = pm.reg.Unregister()
	}
}

func (pm *poolMetrics) endpoint(name, zone string) *endpointMetrics {
	kv := []attribute.KeyValue{AttrBackend.String(name)}
	if zone != "" {
		kv = append(kv, AttrZone.String(zone))
	}
	set := attribute.NewSet(kv...)
	return &endpointMetrics{
		add:   []metric.AddOption{metric.WithAttributeSet(set)},
		rec:   []metric.RecordOption{metric.WithAttributeSet(set)},
		attrs: set,
	}
}

var bg = context.Background()

// completed returns the requests e completed, widening its wrapping count:
// collections come far more often than the count wraps (1<<40 requests).
func (pm *poolMetrics) completed(e *Endpoint) uint64 {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	c := e.counts().completed
	// A sum of cells read one by one may run a few ahead of the truth
	// (a done seen, its pick not): a step back is skipped, never wrapped.
	if d := (c - e.reqSeen) & flowStarted; d < flowStarted/2 {
		e.reqTotal += d
		e.reqSeen = c
	}
	return e.reqBase + e.reqTotal
}

// latency records one try's latency; Proxy and Transport call it, not done.
func (em *endpointMetrics) latency(pm *poolMetrics, o Outcome) {
	if o.Latency > 0 && pm.duration.Enabled(bg) {
		pm.duration.Record(bg, o.Latency.Seconds(), em.rec...)
	}
}

// on reports whether the provider records telemetry; only then do picks
// keep the per-backend counters and the in-flight gauge (and Proxy the
// latency histogram). With telemetry off it is the only cost telemetry adds to a pick.
func (pm *poolMetrics) on() bool { return pm.live.Load() }

func (em *endpointMetrics) ejected(pm *poolMetrics) { pm.ejections.Add(bg, 1, em.add...) }

func (em *endpointMetrics) retried(pm *poolMetrics) { pm.retries.Add(bg, 1, em.add...) }

// inflightSnapshot visits the current members for the in-flight gauge.
func (p *Pool[T]) inflightSnapshot(visit func(*Endpoint)) {
	if s := p.snap.Load(); s != nil {
		for _, e := range s.all {
			visit(e)
		}
	}
}
