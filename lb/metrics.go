package lb

import (
	"context"
	"fmt"

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
	requests  metric.Int64Counter
	errors    metric.Int64Counter
	duration  metric.Float64Histogram
	ejections metric.Int64Counter
	retries   metric.Int64Counter
	reg       metric.Registration
}

// endpointMetrics holds one backend's precomputed attribute options.
type endpointMetrics struct {
	add   []metric.AddOption
	rec   []metric.RecordOption
	attrs attribute.Set
}

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
	pm.requests, err = m.Int64Counter("ladder.lb.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Requests completed per backend."))
	var e error
	pm.errors, e = m.Int64Counter("ladder.lb.errors", metric.WithUnit("{request}"),
		metric.WithDescription("Requests that failed per backend (errors and 5xx)."))
	must(e)
	pm.duration, e = m.Float64Histogram("ladder.lb.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Latency reported per backend."))
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
	pm.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		inflight(func(ep *Endpoint) {
			o.ObserveInt64(g, ep.inflight.Load(), metric.WithAttributeSet(ep.met.attrs))
		})
		return nil
	}, g)
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

func (em *endpointMetrics) record(pm *poolMetrics, o Outcome, failed bool) {
	if !pm.requests.Enabled(bg) {
		return
	}
	pm.requests.Add(bg, 1, em.add...)
	if failed {
		pm.errors.Add(bg, 1, em.add...)
	}
	if o.Latency > 0 {
		pm.duration.Record(bg, o.Latency.Seconds(), em.rec...)
	}
}

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
