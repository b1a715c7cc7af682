package lb

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strconv"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// clientTracing starts one client span per try, as otelhttp's transport
// does per request: kind client, named by the method, with the backend's
// server.address and port, the status code, error status, and
// http.request.resend_count on retries. The request sent carries the
// span's context, so the backend's server span is its child.
type clientTracing struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// global: the provider is OTel's global one, checked per request so
	// that an SDK installed after the proxy is built is picked up; its
	// delegate tracer forwards to it.
	global bool
	// on, for an explicit provider: false for a noop one.
	on bool
}

func newClientTracing(tp trace.TracerProvider, prop propagation.TextMapPropagator) *clientTracing {
	if tp == nil {
		return &clientTracing{tracer: otel.Tracer(scope), prop: prop, global: true}
	}
	return &clientTracing{tracer: tp.Tracer(scope), prop: prop, on: realTracerProvider(tp)}
}

// active returns the tracer when spans would go somewhere, nil for a noop
// provider or OTel's global one before an SDK is installed (whose spans
// cost a start and record nothing).
func (c *clientTracing) active() trace.Tracer {
	if c == nil {
		return nil
	}
	if c.global {
		if !realTracerProvider(otel.GetTracerProvider()) {
			return nil
		}
		return c.tracer
	}
	if !c.on {
		return nil
	}
	return c.tracer
}

func realTracerProvider(tp trace.TracerProvider) bool {
	switch tp.(type) {
	case noop.TracerProvider, *noop.TracerProvider:
		return false
	}
	t := reflect.TypeOf(tp)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() != "go.opentelemetry.io/otel/internal/global"
}

var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// startTry starts the client span of one try on ctx and writes its
// context into a copy of out's headers: the caller's request must not
// change, and an abandoned earlier try's transport may still be reading
// the headers it was given.
func (c *clientTracing) startTry(ctx context.Context, tracer trace.Tracer, out *http.Request, e *Endpoint, target string, resend int) (context.Context, trace.Span) {
	method := spanMethod(out.Method)
	name := method
	if name == "_OTHER" {
		name = "HTTP"
	}
	ctx, span := tracer.Start(ctx, name, clientKind)
	if span.IsRecording() {
		host, port := splitHostPort(target)
		kv := make([]attribute.KeyValue, 0, 6)
		kv = append(kv, attribute.String("http.request.method", method), attribute.String("server.address", host))
		if port > 0 {
			kv = append(kv, attribute.Int("server.port", port))
		}
		if e != nil && e.name != "" {
			kv = append(kv, AttrBackend.String(e.name))
		}
		if resend > 0 {
			kv = append(kv, attribute.Int("http.request.resend_count", resend))
		}
		span.SetAttributes(kv...)
	}
	h := out.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	out.Header = h
	c.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))
	return ctx, span
}

// endTry ends a try's span with its outcome.
func endTry(span trace.Span, o Outcome) {
	if span == nil {
		return
	}
	if span.IsRecording() {
		if o.Status > 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", o.Status))
		}
		switch {
		case o.Err != nil:
			span.SetAttributes(attribute.String("error.type", errorType(o.Err)))
			span.SetStatus(codes.Error, redactErr(o.Err))
		case o.Status >= 400:
			// A client span is an error for 4xx as well (semconv).
			span.SetAttributes(attribute.String("error.type", strconv.Itoa(o.Status)))
			span.SetStatus(codes.Error, "")
		}
	}
	span.End()
}

// errorType is a low-cardinality name for err (semconv error.type).
func errorType(err error) string {
	switch {
	case errors.Is(err, ErrTryTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrNoBackend):
		return "no_backend"
	}
	return reflect.TypeOf(err).String()
}

// spanMethod is the method as semconv names it: a known one, else _OTHER.
func spanMethod(m string) string {
	switch m {
	case "", http.MethodGet:
		return http.MethodGet
	case http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "_OTHER"
}

// splitHostPort splits a URL's host; the port is 0 when absent.
func splitHostPort(hostport string) (string, int) {
	i := len(hostport) - 1
	for i >= 0 && hostport[i] >= '0' && hostport[i] <= '9' {
		i--
	}
	if i < 0 || hostport[i] != ':' || i == len(hostport)-1 {
		return trimBrackets(hostport), 0
	}
	p, err := strconv.Atoi(hostport[i+1:])
	if err != nil || p > 65535 {
		return trimBrackets(hostport[:i]), 0
	}
	return trimBrackets(hostport[:i]), p
}

func trimBrackets(h string) string {
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}
