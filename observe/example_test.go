package observe_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/ladder-go/ladder/observe"
)

// Setup once at startup, hand the providers to every package (or install
// them globally), serve Metrics on an operators' listener, and Shutdown
// before exit to flush what is batched.
func ExampleSetup() {
	for _, v := range []string{"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER"} {
		os.Unsetenv(v) // the example's output must not depend on the machine
	}
	tel, err := observe.Setup(context.Background(), observe.SetupOptions{
		ServiceName:    "shop",
		ServiceVersion: "1.4.0",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tel.Shutdown(context.Background())
	tel.SetGlobal() // ladder's packages default to the global providers

	mw, _ := observe.NewMiddleware(observe.MiddlewareOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	srv := httptest.NewServer(mw.Wrap(mux))
	defer srv.Close()
	resp, _ := http.Get(srv.URL + "/items/7")
	resp.Body.Close()

	rec := httptest.NewRecorder()
	tel.Metrics.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.HasPrefix(line, "http_server_request_duration_seconds_count") {
			fmt.Print(line[:strings.Index(line, "{")], " ", strings.Contains(line, `http_route="/items/{id}"`), "\n")
		}
	}
	// Output:
	// http_server_request_duration_seconds_count true
}

// A request-scoped logger carries the request ID; a LogHandler adds the
// trace and span IDs of the request's server span.
func ExampleLogger() {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	mp := sdkmetric.NewMeterProvider()
	defer mp.Shutdown(context.Background())
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.TimeKey:
			return slog.Attr{}
		case "trace_id", "span_id":
			return slog.String(a.Key, "…") // random per run
		}
		return a
	}}
	logger := slog.New(observe.NewLogHandler(slog.NewJSONHandler(os.Stdout, opts)))
	mw, _ := observe.NewMiddleware(observe.MiddlewareOptions{
		MeterProvider: mp, TracerProvider: tp, Propagator: propagation.TraceContext{}, Logger: logger,
	})
	h := mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		observe.Logger(r.Context()).InfoContext(r.Context(), "order placed", "items", 3)
	}))
	req := httptest.NewRequest("POST", "/orders", nil)
	req.Header.Set("X-Request-Id", "req-7f3a")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// {"level":"INFO","msg":"order placed","request_id":"req-7f3a","items":3,"trace_id":"…","span_id":"…"}
}
