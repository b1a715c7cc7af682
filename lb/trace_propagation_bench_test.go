package lb_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/ladder-go/ladder/lb"
)

type okTripper struct{ resp *http.Response }

func (t okTripper) RoundTrip(*http.Request) (*http.Response, error) { return t.resp, nil }

// BenchmarkTransportPropagation is the cost trace propagation adds to a
// Transport round trip (to an in-process RoundTripper): "global" is the
// default (OTel's global propagator, none installed: writes nothing),
// "tracecontext" writes a traceparent for a request whose ctx holds a span
// (copying the request and its headers once).
func BenchmarkTransportPropagation(b *testing.B) {
	u, _ := url.Parse("http://10.0.0.1:8080")
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	resp := &http.Response{StatusCode: 200, Body: http.NoBody}
	for _, tc := range []struct {
		name string
		prop propagation.TextMapPropagator
		ctx  context.Context
	}{
		{"off", propagation.NewCompositeTextMapPropagator(), context.Background()},
		{"global", nil, withSpan(context.Background())},
		{"tracecontext", propagation.TraceContext{}, withSpan(context.Background())},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tr := &lb.Transport{Pool: pool, Base: okTripper{resp}, Propagator: tc.prop}
			req, _ := http.NewRequestWithContext(tc.ctx, "GET", "http://users/x", nil)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.RoundTrip(req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
