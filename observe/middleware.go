package observe

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// durationBuckets are the semantic conventions' advised boundaries for
// http.server.request.duration, in seconds.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// MiddlewareOptions configures [NewMiddleware]. The zero value uses
// OpenTelemetry's global providers and propagator and slog.Default().
type MiddlewareOptions struct {
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider
	// Propagator extracts the caller's W3C traceparent and tracestate;
	// nil means otel.GetTextMapPropagator().
	Propagator propagation.TextMapPropagator
	// Logger is the base of each request's logger ([Logger]); nil means
	// slog.Default().
	Logger *slog.Logger
	// MaxRoutes bounds the distinct http.route values recorded (a handler
	// could set r.Pattern to anything); beyond it a route is recorded as
	// unknown. Zero means 1000; negative is an error.
	MaxRoutes int
}

// Middleware records the four golden signals of an HTTP server and starts
// its server spans. Build it once with [NewMiddleware] and [Middleware.Wrap]
// any number of handlers; it is safe for concurrent use.
//
// Latency is http.server.request.duration (seconds, the semantic
// conventions' buckets); traffic and errors are its count by
// http.request.method, http.response.status_code, http.route and
// error.type; saturation is http.server.active_requests, which otelhttp
// does not report. http.route is the path of r.Pattern as set by
// http.ServeMux: a request no pattern matched is recorded without
// http.route, so unknown paths never add series. With middleware between
// Wrap and the mux, wrap the mux in [Middleware.Route] too.
type Middleware struct {
	tracer     trace.Tracer
	prop       propagation.TextMapPropagator
	logger     *slog.Logger
	duration   metric.Float64Histogram
	active     metric.Int64UpDownCounter
	maxRoutes  int
	routes     sync.Map                              // route key → *series
	routeSet   sync.Map                              // http.route values admitted under maxRoutes
	routeCount atomic.Int64                          // len(routeSet)
	activeOpts [2][len(methods) + 1]metric.AddOption // by TLS, method index: for active requests
}

// methods are the semantic conventions' known methods; anything else is
// recorded as _OTHER so a client cannot invent series.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

func methodIndex(m string) int {
	for i, k := range methods {
		if k == m {
			return i
		}
	}
	return len(methods)
}

func methodName(i int) string {
	if i < len(methods) {
		return methods[i]
	}
	return "_OTHER"
}

// NewMiddleware builds the instruments. It returns an error wrapping
// [ErrInvalidOptions] for a negative MaxRoutes.
func NewMiddleware(opts MiddlewareOptions) (*Middleware, error) {
	if opts.MaxRoutes < 0 {
		return nil, fmt.Errorf("%w: MaxRoutes %d: must be ≥ 0", ErrInvalidOptions, opts.MaxRoutes)
	}
	mp, tp, prop := opts.MeterProvider, opts.TracerProvider, opts.Propagator
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if prop == nil {
		prop = otel.GetTextMapPropagator()
	}
	m := &Middleware{
		tracer: tp.Tracer(scope), prop: prop, logger: opts.Logger, maxRoutes: opts.MaxRoutes,
	}
	if m.maxRoutes == 0 {
		m.maxRoutes = 1000
	}
	meter := mp.Meter(scope)
	var err error
	if m.duration, err = meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	if m.active, err = meter.Int64UpDownCounter("http.server.active_requests", metric.WithUnit("{request}"),
		metric.WithDescription("Number of active HTTP server requests.")); err != nil {
		return nil, fmt.Errorf("observe: %w", err)
	}
	for tls := range m.activeOpts {
		for i := range m.activeOpts[tls] {
			m.activeOpts[tls][i] = metric.WithAttributeSet(attribute.NewSet(
				attribute.String("http.request.method", methodName(i)), attribute.String("url.scheme", schemeName(tls == 1))))
		}
	}
	return m, nil
}

// routeKey names one attribute set of the duration histogram.
type routeKey struct {
	tls     bool
	method  uint8
	status  uint16
	route   string
	errType string
}

// series is what one routeKey records: its precomputed attribute set and
// its server span's name.
type series struct {
	opt      metric.RecordOption
	spanName string
	route    string // k.route, or "" when over MaxRoutes
}

// series returns the precomputed series of k, building it once.
func (m *Middleware) series(k routeKey) *series {
	if v, ok := m.routes.Load(k); ok {
		return v.(*series)
	}
	if k.route != "" {
		if _, known := m.routeSet.Load(k.route); !known {
			if m.routeCount.Load() >= int64(m.maxRoutes) {
				k.route = "" // over the bound: as unknown
				if v, ok := m.routes.Load(k); ok {
					return v.(*series)
				}
			} else if _, loaded := m.routeSet.LoadOrStore(k.route, struct{}{}); !loaded {
				m.routeCount.Add(1) // racing first uses may pass the bound by a few
			}
		}
	}
	attrs := make([]attribute.KeyValue, 0, 5)
	attrs = append(attrs, attribute.String("http.request.method", methodName(int(k.method))), attribute.String("url.scheme", schemeName(k.tls)))
	if k.status != 0 {
		attrs = append(attrs, attribute.Int("http.response.status_code", int(k.status)))
	}
	if k.route != "" {
		attrs = append(attrs, attribute.String("http.route", k.route))
	}
	if k.errType != "" {
		attrs = append(attrs, attribute.String("error.type", k.errType))
	}
	se := &series{opt: metric.WithAttributeSet(attribute.NewSet(attrs...)), spanName: methodName(int(k.method)), route: k.route}
	if k.route != "" {
		se.spanName += " " + k.route
	}
	v, _ := m.routes.LoadOrStore(k, se)
	return v.(*series)
}

// route is the path part of a ServeMux pattern ("GET example.com/items/{id}"
// → "/items/{id}"), or "" when none matched.
func route(pattern string) string {
	if i := strings.IndexByte(pattern, '/'); i >= 0 {
		return pattern[i:]
	}
	return ""
}

// Wrap returns next instrumented: each request gets a server span (a child
// of the caller's traceparent, if any), a request ID ([RequestID]) and a
// request-scoped logger ([Logger]), and its duration is recorded when
// next returns.
func (m *Middleware) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.serve(next, w, r)
	})
}

func (m *Middleware) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	mi := methodIndex(r.Method)
	tls := r.TLS != nil
	aopt := m.activeOpts[b2i(tls)][mi]
	ctx := r.Context()
	m.active.Add(ctx, 1, aopt)

	ctx = m.prop.Extract(ctx, propagation.HeaderCarrier(r.Header))
	ctx, span := m.tracer.Start(ctx, methodName(mi), trace.WithSpanKind(trace.SpanKindServer))
	recording := span.IsRecording()
	if recording {
		span.SetAttributes(
			attribute.String("http.request.method", methodName(mi)),
			attribute.String("url.path", r.URL.Path),
			attribute.String("url.scheme", schemeName(tls)),
			attribute.String("server.address", r.Host),
			attribute.String("network.protocol.version", protoVersion(r)),
		)
	}

	// One allocation for the request's state and its ResponseWriter.
	st := &reqState{id: requestID(r), base: m.logger}
	st.rw.ResponseWriter = w
	rw := &st.rw
	w.Header()[headerRequestID] = []string{st.id}
	r2 := r.WithContext(context.WithValue(ctx, reqKey{}, st))

	defer func() {
		pattern := r2.Pattern
		if pattern == "" {
			pattern = st.pattern // carried back by Route
		}
		k := routeKey{tls: tls, method: uint8(mi), status: uint16(rw.status()), route: route(pattern)}
		p := recover()
		if p != nil {
			k.status, k.errType = 0, "panic"
		} else if k.status >= 500 {
			k.errType = strconv.Itoa(int(k.status))
		}
		d := time.Since(start).Seconds()
		se := m.series(k)
		m.duration.Record(ctx, d, se.opt)
		m.active.Add(ctx, -1, aopt)
		if recording {
			endServerSpan(span, k, se)
		}
		if p != nil {
			panic(p) // net/http's recovery (or the caller's) decides what follows
		}
	}()
	next.ServeHTTP(rw, r2)
}

// Route wraps the http.ServeMux (or any handler that sets r.Pattern) when
// other middleware sits between [Middleware.Wrap] and it: middleware that
// calls r.WithContext (authentication, timeouts, http.StripPrefix) hands the
// mux a copy of the request, whose Pattern Wrap never sees, and every request
// would be recorded without http.route. Route carries the pattern back to
// Wrap. Outside Wrap it only calls next.
func (m *Middleware) Route(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, _ := r.Context().Value(reqKey{}).(*reqState)
		if st != nil {
			defer func() { st.pattern = r.Pattern }() // set by the mux, also when next panics
		}
		next.ServeHTTP(w, r)
	})
}

func endServerSpan(span trace.Span, k routeKey, se *series) {
	if k.route != "" {
		span.SetAttributes(attribute.String("http.route", k.route))
	}
	span.SetName(se.spanName)
	if k.status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", int(k.status)))
	}
	if k.errType != "" {
		span.SetAttributes(attribute.String("error.type", k.errType))
		span.SetStatus(codes.Error, k.errType) // 4xx stay unset on a server span, per semconv
	}
	span.End()
}

func schemeName(tls bool) string {
	if tls {
		return "https"
	}
	return "http"
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func protoVersion(r *http.Request) string {
	switch {
	case r.ProtoMajor == 1 && r.ProtoMinor == 1:
		return "1.1"
	case r.ProtoMajor == 2:
		return "2"
	case r.ProtoMajor == 1 && r.ProtoMinor == 0:
		return "1.0"
	}
	return strconv.Itoa(r.ProtoMajor) + "." + strconv.Itoa(r.ProtoMinor)
}
