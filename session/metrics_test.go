package session_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/session"
)

func TestMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	e := newEnv(t, session.Options{MeterProvider: mp})
	_, tok := e.do("", put(t, "a", 1))
	_, tok = e.do(tok, login(t, "alice"))
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) { _ = s.Destroy(r.Context()) })
	e.store.fail.Store(true)
	e.do(tok, nop)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	var loads, failedLoads uint64
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/ladder-go/ladder/session" {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					sums[m.Name] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					if v, _ := p.Attributes.Value("ladder.session.operation"); v.AsString() == "load" {
						if _, failed := p.Attributes.Value(attribute.Key("error.type")); failed {
							failedLoads += p.Count
						} else {
							loads += p.Count
						}
					}
				}
			}
		}
	}
	want := map[string]int64{"ladder.session.created": 1, "ladder.session.renewed": 1,
		"ladder.session.destroyed": 1, "ladder.session.store.errors": 1}
	for name, n := range want {
		if sums[name] != n {
			t.Errorf("%s = %d, want %d", name, sums[name], n)
		}
	}
	if loads != 2 || failedLoads != 1 {
		t.Errorf("store.duration load points: %d ok, %d failed; want 2, 1", loads, failedLoads)
	}
}
