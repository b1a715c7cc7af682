package lb_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func newTracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec
}

func clientSpans(rec *tracetest.SpanRecorder) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			out = append(out, s)
		}
	}
	return out
}

func attrOf(s sdktrace.ReadOnlySpan, k string) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// traceparentSpanID is the parent-id field of a W3C traceparent.
func traceparentSpanID(tp string) string {
	parts := strings.Split(tp, "-")
	if len(parts) != 4 {
		return ""
	}
	return parts[2]
}

// One client span per try, each a child of the server span in ctx; the
// retried try's span is an error with the backend's 503, the served one
// carries resend_count 1, and the backend that answered saw the served
// try's span as its parent.
func TestProxyStartsAClientSpanPerTry(t *testing.T) {
	tp, rec := newTracer(t)
	bs := lbtest.Start(t, 2)
	var first atomic.Bool
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			if first.CompareAndSwap(false, true) {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			echoTraceparent(w, r)
		})
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	p := &lb.Proxy{Pool: pool, Logger: quiet, Propagator: propagation.TraceContext{}, TracerProvider: tp}
	var server trace.SpanContext
	front := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tp.Tracer("test").Start(r.Context(), "GET /", trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		server = span.SpanContext()
		p.ServeHTTP(w, r.WithContext(ctx))
	}))
	req, _ := http.NewRequest("GET", front.URL+"/", nil)
	seen := getBody(t, req)
	front.Close() // waits for the handler: the spans have ended

	spans := clientSpans(rec)
	if len(spans) != 2 {
		t.Fatalf("%d client spans, want one per try (2)", len(spans))
	}
	for i, s := range spans {
		if s.Name() != "GET" || s.Parent().SpanID() != server.SpanID() || s.SpanContext().TraceID() != server.TraceID() {
			t.Errorf("span %d: name %q parent %v, want GET, child of the server span %v", i, s.Name(), s.Parent().SpanID(), server.SpanID())
		}
		if v, ok := attrOf(s, "server.address"); !ok || v.AsString() != "127.0.0.1" {
			t.Errorf("span %d: server.address %v", i, v.String())
		}
		if v, ok := attrOf(s, "server.port"); !ok || v.AsInt64() == 0 {
			t.Errorf("span %d: server.port %v", i, v.String())
		}
	}
	failed, served := spans[0], spans[1]
	if v, _ := attrOf(failed, "http.response.status_code"); v.AsInt64() != 503 || failed.Status().Code != codes.Error {
		t.Errorf("retried try: status code %v, span status %v; want 503 and Error", v.String(), failed.Status())
	}
	if _, ok := attrOf(failed, "http.request.resend_count"); ok {
		t.Error("first try carries http.request.resend_count")
	}
	if v, _ := attrOf(served, "http.response.status_code"); v.AsInt64() != 200 || served.Status().Code == codes.Error {
		t.Errorf("served try: status code %v, span status %v; want 200, not Error", v.String(), served.Status())
	}
	if v, _ := attrOf(served, "http.request.resend_count"); v.AsInt64() != 1 {
		t.Errorf("served try: resend_count %v, want 1", v.String())
	}
	if got, want := traceparentSpanID(seen), served.SpanContext().SpanID().String(); got != want {
		t.Errorf("backend saw parent span %q (%q), want the served try's client span %q", got, seen, want)
	}
}

// Transport: a client span per request even without a parent; the request
// sent carries it; the caller's request is not changed.
func TestTransportStartsAClientSpanCarriedToTheBackend(t *testing.T) {
	tp, rec := newTracer(t)
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoTraceparent)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	client := &http.Client{Transport: &lb.Transport{Pool: pool, Propagator: propagation.TraceContext{}, TracerProvider: tp}}
	req, _ := http.NewRequestWithContext(withSpan(context.Background()), "GET", "http://users/x", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	spans := clientSpans(rec)
	if len(spans) != 1 {
		t.Fatalf("%d client spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Parent().SpanID() != testSpanID || s.SpanContext().TraceID() != testTraceID {
		t.Errorf("client span's parent %v trace %v, want the caller's span %v in %v", s.Parent().SpanID(), s.SpanContext().TraceID(), testSpanID, testTraceID)
	}
	if got, want := traceparentSpanID(string(b)), s.SpanContext().SpanID().String(); got != want {
		t.Errorf("backend saw parent span %q, want the client span %q", got, want)
	}
	if v := req.Header.Get("Traceparent"); v != "" {
		t.Errorf("the caller's request was changed: Traceparent %q", v)
	}
	if v, _ := attrOf(s, "server.address"); v.AsString() != bs[0].URL.Hostname() {
		t.Errorf("server.address %q, want %q", v.AsString(), bs[0].URL.Hostname())
	}
}

// A failed try (backend gone) is an error span with error.type.
func TestTransportClientSpanRecordsConnectionErrors(t *testing.T) {
	tp, rec := newTracer(t)
	bs := lbtest.Start(t, 1)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	bs[0].Kill()
	client := &http.Client{Transport: &lb.Transport{Pool: pool, Propagator: propagation.TraceContext{}, TracerProvider: tp}}
	resp, err := client.Get("http://users/")
	if err == nil {
		resp.Body.Close()
		t.Fatal("request to a dead backend succeeded")
	}
	spans := clientSpans(rec)
	if len(spans) == 0 {
		t.Fatal("no client span for a failed try")
	}
	for _, s := range spans {
		if v, ok := attrOf(s, "error.type"); !ok || v.AsString() == "" || s.Status().Code != codes.Error {
			t.Errorf("failed try: error.type %v, status %v; want a type and Error", v.String(), s.Status())
		}
	}
}

// With a noop provider no span is started and the ctx's span is what the
// backend sees.
func TestProxyWithNoopTracerProviderPropagatesTheServerSpan(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoTraceparent)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	p := &lb.Proxy{Pool: pool, Logger: quiet, Propagator: propagation.TraceContext{}, TracerProvider: noop.NewTracerProvider()}
	front := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(w, r.WithContext(withSpan(r.Context())))
	}))
	req, _ := http.NewRequest("GET", front.URL+"/", nil)
	if got := getBody(t, req); got != testTraceparent {
		t.Fatalf("backend saw %q, want the ctx's span %q", got, testTraceparent)
	}
}
