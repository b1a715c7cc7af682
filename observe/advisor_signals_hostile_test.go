package observe

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// A handler that panics failed its request (net/http drops the connection):
// the error ratio must count it, as error.type says.
func TestSignalsCountPanicsAsErrors(t *testing.T) {
	ctx := context.Background()
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	defer mp.Shutdown(ctx)
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(ctx)
	mw, err := NewMiddleware(MiddlewareOptions{MeterProvider: mp, TracerProvider: tp, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h := mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/boom" {
			panic(http.ErrAbortHandler)
		}
	}))
	prev, _ := Collect(ctx, rd)
	for i := range 10 {
		path := "/ok"
		if i%2 == 0 {
			path = "/boom"
		}
		func() {
			defer func() { _ = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		}()
	}
	cur, _ := Collect(ctx, rd)
	s := deriveSignals(prev, cur, time.Second, 1)
	if got := s[SigHTTPErrors]; got != 0.5 {
		t.Fatalf("error ratio %v with 5 panics in 10 requests, want 0.5", got)
	}
}

func httpPoint(status int, count float64) Point {
	return Point{Name: instHTTPDuration, Hist: true, Value: count,
		Attrs: attribute.NewSet(attribute.String("http.request.method", "GET"), attribute.Int("http.response.status_code", status))}
}

// A restarted process resets its counters: no ratio may go negative or
// above one.
func TestSignalsSurviveACounterReset(t *testing.T) {
	prev := &Snapshot{points: map[string][]Point{instHTTPDuration: {httpPoint(200, 900), httpPoint(500, 100)}}}
	cur := &Snapshot{points: map[string][]Point{instHTTPDuration: {httpPoint(200, 1000), httpPoint(500, 5)}}}
	s := deriveSignals(prev, cur, time.Second, 1)
	if v, ok := s[SigHTTPErrors]; ok && (v < 0 || v > 1) {
		t.Fatalf("error ratio %v after the 5xx series reset, want within [0, 1]", v)
	}
}

// A gauge may report NaN or ±Inf (a division by zero in a callback): no
// signal, rule or chart may carry it.
func TestSignalsAndChartsIgnoreNonFiniteValues(t *testing.T) {
	ctx := context.Background()
	rd := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(rd))
	defer mp.Shutdown(ctx)
	age, _ := mp.Meter("t").Float64Gauge(instQueueAge)
	lag, _ := mp.Meter("t").Float64Gauge(instRepLag)
	age.Record(ctx, math.NaN(), metric.WithAttributes(keyQueueName.String("a")))
	age.Record(ctx, 3, metric.WithAttributes(keyQueueName.String("b")))
	lag.Record(ctx, math.Inf(1))
	var samples []sample
	for i := range 3 {
		snap, _ := Collect(ctx, rd)
		s := deriveSignals(nil, snap, 0, 1)
		for k, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("signal %s = %v", k, v)
			}
		}
		samples = append(samples, sample{At: time0.Add(time.Duration(i) * time.Second), Signals: Signals{SigQueueReady: []float64{1, math.Inf(1), math.NaN()}[i]}})
	}
	for _, c := range charts(samples) {
		for _, txt := range []string{c.Points, c.Area, c.Last, c.Max} {
			if strings.Contains(txt, "NaN") || strings.Contains(txt, "Inf") {
				t.Errorf("chart %q draws %q", c.Title, txt)
			}
		}
	}
}
