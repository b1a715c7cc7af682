package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/observe"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// nopProcessor ends spans without exporting them: the benchmark measures
// instrumentation, not an exporter.
type nopProcessor struct{}

func (nopProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (nopProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (nopProcessor) Shutdown(context.Context) error                  { return nil }
func (nopProcessor) ForceFlush(context.Context) error                { return nil }

// middlewares returns the handler under test for each contender, all on
// one SDK meter and tracer provider (every span sampled and recorded).
func middlewares(b *testing.B) []struct {
	name string
	h    http.Handler
} {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(nopProcessor{}))
	b.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
	prop := propagation.TraceContext{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	mw, err := observe.NewMiddleware(observe.MiddlewareOptions{MeterProvider: mp, TracerProvider: tp, Propagator: prop})
	if err != nil {
		b.Fatal(err)
	}
	return []struct {
		name string
		h    http.Handler
	}{
		{"bare", mux},
		{"ladder", mw.Wrap(mux)},
		{"otelhttp", otelhttp.NewHandler(mux, "hello", otelhttp.WithMeterProvider(mp), otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(prop))},
	}
}

// BenchmarkObserveMiddleware (BenchmarkMiddleware is session's) compares observe's golden-signal middleware with
// otelhttp on a trivial handler: "-loopback" through a real http.Server on
// 127.0.0.1 and a keep-alive client (the cost a service sees), "-direct"
// calling the handler in-process (the middleware's own cost, which
// loopback's ~tens of µs hide). "bare" is the handler without middleware.
// ladder also reports http.server.active_requests, which otelhttp does not.
func BenchmarkObserveMiddleware(b *testing.B) {
	for _, m := range middlewares(b) {
		b.Run(m.name+"-loopback", func(b *testing.B) {
			srv := httptest.NewServer(m.h)
			defer srv.Close()
			client := srv.Client()
			req, _ := http.NewRequest("GET", srv.URL+"/hello", nil)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	for _, m := range middlewares(b) {
		b.Run(m.name+"-direct", func(b *testing.B) {
			req := httptest.NewRequest("GET", "/hello", nil)
			req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				m.h.ServeHTTP(w, req)
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}
