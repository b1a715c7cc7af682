package lb_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/lb"
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
	_, held, _ := p.Pick() // b, in flight
	got := sums(t, reader)
	if got["ladder.lb.errors"]["a"] != 5 || got["ladder.lb.backend.ejections"]["a"] != 1 {
		t.Errorf("errors %v, ejections %v", got["ladder.lb.errors"], got["ladder.lb.backend.ejections"])
	}
	if got["ladder.lb.requests"]["a"] != 5 || got["ladder.lb.request.duration"]["a"] != 5 {
		t.Errorf("requests %v, durations %v", got["ladder.lb.requests"], got["ladder.lb.request.duration"])
	}
	if got["ladder.lb.inflight"]["b"] != 1 || got["ladder.lb.inflight"]["a"] != 0 {
		t.Errorf("inflight %v", got["ladder.lb.inflight"])
	}
	held(lb.Outcome{})
	if _, ok := got["ladder.lb.requests"]["b"]; !ok {
		t.Error("no requests recorded for b")
	}
}
