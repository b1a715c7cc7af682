package edge_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/ladder-go/ladder/cache/edge"
)

func TestMetricsAndSpans(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())

	e := newEnv(t, edge.Options{MeterProvider: mp, TracerProvider: tp})
	e.get("http://example.com/m")
	e.get("http://example.com/m")
	e.get("http://example.com/m")
	e.do(http.MethodPost, "http://example.com/m")
	e.c.PurgeAll()

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	var hist uint64
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/ladder-go/ladder/cache/edge" {
			continue
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					r, _ := p.Attributes.Value(attribute.Key("ladder.edge.result"))
					got[m.Name+"/"+r.AsString()] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					got[m.Name] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					hist += p.Count
				}
			}
		}
	}
	want := map[string]int64{
		"ladder.edge.requests/hit": 2, "ladder.edge.requests/miss": 1, "ladder.edge.requests/bypass": 1,
		"ladder.edge.purges/": 0, "ladder.edge.stored.objects": 0, "ladder.edge.stored.bytes": 0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if hist != 1 {
		t.Errorf("ladder.edge.origin.duration count %d, want 1 (one fill)", hist)
	}
	if n := len(spans.Ended()); n != 1 {
		t.Errorf("%d spans, want 1 per origin fetch", n)
	}
}

// A client whose response is complete finds the origin fetch's span
// ended: the span ends before the readers learn the outcome (CI saw 0
// spans right after the response when the fill goroutine ended it after).
func TestFillSpanEndsBeforeTheResponseCompletes(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(context.Background())
	e := newEnv(t, edge.Options{TracerProvider: tp})
	for i := range 300 {
		e.get(fmt.Sprintf("http://example.com/s%d", i))
		if n := len(spans.Ended()); n != i+1 {
			t.Fatalf("after %d fetches, %d spans ended", i+1, n)
		}
	}
}
