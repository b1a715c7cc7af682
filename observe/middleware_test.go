package observe_test

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ladder-go/ladder/observe"
)

type rig struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	mw     *observe.Middleware
	mp     *sdkmetric.MeterProvider
	tp     *sdktrace.TracerProvider
}

func newRig(t *testing.T, opts observe.MiddlewareOptions) *rig {
	t.Helper()
	r := &rig{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	r.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(r.reader))
	r.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(r.spans))
	t.Cleanup(func() { _ = r.mp.Shutdown(context.Background()); _ = r.tp.Shutdown(context.Background()) })
	opts.MeterProvider, opts.TracerProvider = r.mp, r.tp
	if opts.Propagator == nil {
		opts.Propagator = propagation.TraceContext{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	mw, err := observe.NewMiddleware(opts)
	if err != nil {
		t.Fatal(err)
	}
	r.mw = mw
	return r
}

func (r *rig) collect(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "item") })
	mux.HandleFunc("POST /fail", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	return mux
}

func do(t *testing.T, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestMiddlewareRecordsDurationByRouteStatusAndError(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	h := r.mw.Wrap(testMux())
	do(t, h, "GET", "/items/1")
	do(t, h, "GET", "/items/2")
	do(t, h, "POST", "/fail")
	do(t, h, "BREW", "/items/3") // an invented method: _OTHER, and no route matched

	got := r.collect(t)["http.server.request.duration"]
	if got.Unit != "s" {
		t.Errorf("unit %q, want s", got.Unit)
	}
	hist, ok := got.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("data %T, want a float64 histogram", got.Data)
	}
	want := metricdata.Histogram[float64]{
		Temporality: metricdata.CumulativeTemporality,
		DataPoints: []metricdata.HistogramDataPoint[float64]{
			{Attributes: attribute.NewSet(attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"), attribute.Int("http.response.status_code", 200), attribute.String("http.route", "/items/{id}")), Count: 2},
			{Attributes: attribute.NewSet(attribute.String("http.request.method", "POST"), attribute.String("url.scheme", "http"), attribute.Int("http.response.status_code", 503), attribute.String("http.route", "/fail"), attribute.String("error.type", "503")), Count: 1},
			{Attributes: attribute.NewSet(attribute.String("http.request.method", "_OTHER"), attribute.String("url.scheme", "http"), attribute.Int("http.response.status_code", 405)), Count: 1},
		},
	}
	byAttrs := func(dps []metricdata.HistogramDataPoint[float64]) {
		slices.SortFunc(dps, func(a, b metricdata.HistogramDataPoint[float64]) int {
			return strings.Compare(a.Attributes.Encoded(attribute.DefaultEncoder()), b.Attributes.Encoded(attribute.DefaultEncoder()))
		})
	}
	byAttrs(want.DataPoints)
	byAttrs(hist.DataPoints)
	metricdatatest.AssertEqual(t, want, hist, metricdatatest.IgnoreTimestamp(), metricdatatest.IgnoreValue(), metricdatatest.IgnoreExemplars())
	for _, dp := range hist.DataPoints {
		if len(dp.Bounds) != 14 || dp.Bounds[0] != 0.005 || dp.Bounds[13] != 10 {
			t.Errorf("bounds %v, want the semantic conventions' 0.005 … 10", dp.Bounds)
		}
	}
}

func TestMiddlewareUnknownRoutesAddNoSeries(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	h := r.mw.Wrap(testMux())
	for _, p := range []string{"/a", "/b/c", "/d?x=1", "/items", "/zzz/" + strings.Repeat("x", 200)} {
		do(t, h, "GET", p)
	}
	hist := r.collect(t)["http.server.request.duration"].Data.(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 1 {
		t.Fatalf("%d series for five unknown paths, want 1: %v", len(hist.DataPoints), hist.DataPoints)
	}
	if _, ok := hist.DataPoints[0].Attributes.Value("http.route"); ok {
		t.Errorf("an unknown path was recorded with a route: %v", hist.DataPoints[0].Attributes)
	}
}

func TestMiddlewareBoundsRoutesAHandlerInvents(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{MaxRoutes: 2})
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Pattern = req.URL.Path // a handler that makes up a pattern per path
	}))
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e"} {
		do(t, h, "GET", p)
	}
	hist := r.collect(t)["http.server.request.duration"].Data.(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 3 { // two routes, then the unknown one
		t.Fatalf("%d series, want 3 (MaxRoutes 2 + unknown)", len(hist.DataPoints))
	}
}

func TestMiddlewareReportsActiveRequests(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	var during metricdata.Metrics
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		during = r.collect(t)["http.server.active_requests"]
	}))
	do(t, h, "GET", "/")
	get := func(m metricdata.Metrics) int64 {
		s := m.Data.(metricdata.Sum[int64])
		if s.IsMonotonic {
			t.Error("active requests is monotonic; want an UpDownCounter")
		}
		return s.DataPoints[0].Value
	}
	if v := get(during); v != 1 {
		t.Errorf("active requests during the request = %d, want 1", v)
	}
	if v := get(r.collect(t)["http.server.active_requests"]); v != 0 {
		t.Errorf("active requests after = %d, want 0", v)
	}
}

func TestMiddlewareRecordsAPanicAndRepanics(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	h := r.mw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed; net/http should see it")
			}
		}()
		do(t, h, "GET", "/")
	}()
	m := r.collect(t)
	dp := m["http.server.request.duration"].Data.(metricdata.Histogram[float64]).DataPoints[0]
	if v, _ := dp.Attributes.Value("error.type"); v.AsString() != "panic" {
		t.Errorf("attributes %v, want error.type=panic", dp.Attributes)
	}
	if v := m["http.server.active_requests"].Data.(metricdata.Sum[int64]).DataPoints[0].Value; v != 0 {
		t.Errorf("active requests after a panic = %d, want 0", v)
	}
}

func TestMiddlewareContinuesTheCallersTrace(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	var inner trace.SpanContext
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, req *http.Request) {
		inner = trace.SpanContextFromContext(req.Context())
	})
	h := r.mw.Wrap(mux)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	do(t, h, "GET", "/items/7", "Traceparent", parent, "Tracestate", "vendor=x")
	spans := r.spans.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.SpanKind() != trace.SpanKindServer || s.Name() != "GET /items/{id}" {
		t.Errorf("span %q kind %v, want a server span GET /items/{id}", s.Name(), s.SpanKind())
	}
	if got := s.Parent().TraceID().String(); got != "4bf92f3577b34da6a3ce929d0e0e4736" || !s.Parent().IsRemote() {
		t.Errorf("parent trace %s remote=%v, want the traceparent's", got, s.Parent().IsRemote())
	}
	if s.SpanContext().TraceState().Get("vendor") != "x" {
		t.Errorf("tracestate %q lost", s.SpanContext().TraceState())
	}
	if inner.SpanID() != s.SpanContext().SpanID() {
		t.Error("the handler's ctx does not hold the server span")
	}

	do(t, h, "POST", "/items/7") // 405 from the mux: not a server error
	do(t, r.mw.Wrap(testMux()), "POST", "/fail")
	ended := r.spans.Ended()
	if st := ended[1].Status().Code; st != codes.Unset {
		t.Errorf("a 405 set span status %v; 4xx stay unset on server spans", st)
	}
	if st := ended[2].Status().Code; st != codes.Error {
		t.Errorf("a 503 set span status %v, want Error", st)
	}
}

func TestMiddlewareRequestID(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	var seen string
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		seen = observe.RequestID(req.Context())
	}))
	for _, tc := range []struct {
		name, in string
		kept     bool
	}{
		{"valid", "req-42.a:b", true},
		{"uuid", "0b4c7a3e-8f1d-4c2e-9a6b-1d2e3f4a5b6c", true},
		{"newline", "abc\nlevel=ERROR", false},
		{"space", "a b", false},
		{"too long", strings.Repeat("a", 129), false},
		{"absent", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, h, "GET", "/", "X-Request-Id", tc.in)
			if tc.kept && seen != tc.in {
				t.Errorf("request ID %q, want the client's %q", seen, tc.in)
			}
			if !tc.kept && (seen == tc.in || len(seen) != 16) {
				t.Errorf("request ID %q for client's %q: want a generated one", seen, tc.in)
			}
			if got := rec.Header().Get("X-Request-Id"); got != seen {
				t.Errorf("response X-Request-Id %q, want %q", got, seen)
			}
		})
	}
}

func TestMiddlewareRequestLogger(t *testing.T) {
	var buf strings.Builder
	r := newRig(t, observe.MiddlewareOptions{Logger: slog.New(observe.NewLogHandler(slog.NewJSONHandler(&buf, nil)))})
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		observe.Logger(req.Context()).InfoContext(req.Context(), "hello")
	}))
	do(t, h, "GET", "/", "X-Request-Id", "abc")
	line := buf.String()
	for _, want := range []string{`"request_id":"abc"`, `"trace_id":"`, `"span_id":"`} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %s lacks %s", line, want)
		}
	}
}

func TestNewMiddlewareRejectsNegativeMaxRoutes(t *testing.T) {
	_, err := observe.NewMiddleware(observe.MiddlewareOptions{MaxRoutes: -1})
	if err == nil || !strings.Contains(err.Error(), "observe: invalid options: MaxRoutes -1") {
		t.Fatalf("err = %v", err)
	}
}

func TestMiddlewareKeepsFlushAndStatusThroughTheWriter(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusCreated)
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush through the middleware: %v", err)
		}
		w.WriteHeader(http.StatusInternalServerError) // superfluous: ignored by net/http, and by us
	}))
	// The client has its answer at the flush: wait for the middleware to
	// record before collecting.
	recorded := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		defer close(recorded)
		h.ServeHTTP(w, req)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the superfluous WriteHeader is logged
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-recorded
	dp := r.collect(t)["http.server.request.duration"].Data.(metricdata.Histogram[float64]).DataPoints[0]
	if v, _ := dp.Attributes.Value("http.response.status_code"); resp.StatusCode != 201 || v.AsInt64() != 201 {
		t.Fatalf("client saw %d, recorded %v; want 201 for both", resp.StatusCode, v.AsInt64())
	}
}
