package lb_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

var (
	testTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testSpanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
	// the W3C traceparent of testTraceID/testSpanID, sampled
	testTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)

func withSpan(ctx context.Context) context.Context {
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled,
	}))
}

// echoTraceparent answers with the traceparent header the backend received.
func echoTraceparent(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, r.Header.Get("Traceparent"))
}

func TestProxyInjectsTheSpanOfTheRequestContext(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoTraceparent)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	p := &lb.Proxy{Pool: pool, Logger: quiet, Propagator: propagation.TraceContext{}}
	// A server middleware (observe's) puts the server span in ctx.
	front := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.ServeHTTP(w, r.WithContext(withSpan(r.Context())))
	}))
	req, _ := http.NewRequest("GET", front.URL+"/", nil)
	req.Header.Set("Traceparent", "00-11111111111111111111111111111111-2222222222222222-01")
	if got := getBody(t, req); got != testTraceparent {
		t.Fatalf("backend saw traceparent %q, want the span of ctx %q", got, testTraceparent)
	}
}

func TestProxyPassesIncomingTraceparentWithoutSpan(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoTraceparent)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Propagator: propagation.TraceContext{}})
	req, _ := http.NewRequest("GET", front.URL+"/", nil)
	req.Header.Set("Traceparent", testTraceparent)
	if got := getBody(t, req); got != testTraceparent {
		t.Fatalf("backend saw traceparent %q, want the incoming one %q", got, testTraceparent)
	}
}

func TestTransportInjectsWithoutChangingTheCallersRequest(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoTraceparent)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	client := &http.Client{Transport: &lb.Transport{Pool: pool, Propagator: propagation.TraceContext{}}}
	req, _ := http.NewRequestWithContext(withSpan(context.Background()), "GET", "http://users/", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if string(b) != testTraceparent {
		t.Fatalf("backend saw traceparent %q, want %q", b, testTraceparent)
	}
	if v := req.Header.Get("Traceparent"); v != "" {
		t.Fatalf("the caller's request was changed: Traceparent %q", v)
	}

	// Without a span in ctx nothing is written.
	req2, _ := http.NewRequest("GET", "http://users/", nil)
	resp2, err := client.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if b, _ := io.ReadAll(resp2.Body); len(b) != 0 {
		t.Fatalf("backend saw traceparent %q for a request without a span", b)
	}
}

func getBody(t *testing.T, req *http.Request) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
