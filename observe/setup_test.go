package observe_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/observe"
)

// otelVars are cleared by every Setup test, so the machine's environment
// cannot change what they see ("" reads as unset).
var otelVars = []string{
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_ENDPOINT",
	"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
	"OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG",
	"OTEL_PROPAGATORS", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_METRIC_EXPORT_INTERVAL", "OTEL_SDK_DISABLED",
}

func cleanEnv(t *testing.T) {
	for _, v := range otelVars {
		t.Setenv(v, "")
	}
}

func setup(t *testing.T, opts observe.SetupOptions) *observe.Telemetry {
	t.Helper()
	tel, err := observe.Setup(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return tel
}

func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("metrics handler answered %d", rec.Code)
	}
	return rec.Body.String()
}

func TestSetupServesPrometheusAndTheInProcessReader(t *testing.T) {
	cleanEnv(t)
	tel := setup(t, observe.SetupOptions{ServiceName: "shop", ServiceVersion: "1.2.3", ServiceInstance: "web-1", RuntimeMetrics: true})
	c, _ := tel.MeterProvider.Meter("test").Int64Counter("ladder.test.things")
	c.Add(context.Background(), 3)

	body := scrape(t, tel.Metrics)
	for _, want := range []string{"ladder_test_things_total", `service_name="shop"`, `service_version="1.2.3"`, `service_instance_id="web-1"`, "go_goroutine_count", "process_cpu_time_seconds_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := tel.Reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			found = found || m.Name == "ladder.test.things"
		}
	}
	if !found {
		t.Error("Reader did not see the counter")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

func TestSetupResourceFromEnvironment(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OTEL_SERVICE_NAME", "from-env")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=prod,team=core")
	tel := setup(t, observe.SetupOptions{ServiceName: "from-code"})
	got := map[string]string{}
	for _, kv := range tel.Resource.Attributes() {
		got[string(kv.Key)] = kv.Value.String()
	}
	if got["service.name"] != "from-env" || got["deployment.environment.name"] != "prod" || got["team"] != "core" {
		t.Fatalf("resource %v", got)
	}
	if got["service.instance.id"] == "" {
		t.Error("no service.instance.id generated")
	}
}

func TestSetupRejectsMalformedEnvironment(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"OTEL_RESOURCE_ATTRIBUTES", "novalue"},
		{"OTEL_RESOURCE_ATTRIBUTES", "k=%zz"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://h:99999"},
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://%zz"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "::nope"},
		{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "localhost"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "novalue"},
		{"OTEL_EXPORTER_OTLP_HEADERS", "k=%zz"},
		{"OTEL_EXPORTER_OTLP_TIMEOUT", "10s"},
		{"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
		{"OTEL_TRACES_SAMPLER", "sometimes"},
		{"OTEL_TRACES_SAMPLER_ARG", "2"},
		{"OTEL_PROPAGATORS", "b3"},
		{"OTEL_TRACES_EXPORTER", "zipkin"},
		{"OTEL_TRACES_EXPORTER", "prometheus"},
		{"OTEL_METRICS_EXPORTER", "none,otlp"},
		{"OTEL_METRIC_EXPORT_INTERVAL", "-5"},
		{"OTEL_SDK_DISABLED", "yes"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			cleanEnv(t)
			t.Setenv(tc.name, tc.value)
			if tc.name == "OTEL_TRACES_SAMPLER_ARG" {
				t.Setenv("OTEL_TRACES_SAMPLER", "traceidratio")
			}
			tel, err := observe.Setup(context.Background(), observe.SetupOptions{})
			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatal("Setup accepted it")
			}
			if !errors.Is(err, observe.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("err %q: want ErrInvalidOptions naming %s", err, tc.name)
			}
			if strings.Count(err.Error(), "observe:") != 1 {
				t.Errorf("prefix repeated: %q", err)
			}
		})
	}
}

func TestSetupRejectsBadOptions(t *testing.T) {
	cleanEnv(t)
	for _, opts := range []observe.SetupOptions{
		{OTLPEndpoint: "collector:4318"},
		{MetricInterval: -1},
	} {
		if _, err := observe.Setup(context.Background(), opts); !errors.Is(err, observe.ErrInvalidOptions) {
			t.Errorf("%+v: err %v, want ErrInvalidOptions", opts, err)
		}
	}
}

func TestSetupHeaderValuesStayOutOfErrors(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20secret,broken")
	_, err := observe.Setup(context.Background(), observe.SetupOptions{})
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err %v: want an error without the header's value", err)
	}
}

// collector is an OTLP/HTTP endpoint that notes the paths and headers it got.
type collector struct {
	mu    sync.Mutex
	paths map[string]int
	auth  string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	c.mu.Lock()
	c.paths[r.URL.Path]++
	c.auth = r.Header.Get("Authorization")
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
}

func TestSetupShutdownFlushesOTLP(t *testing.T) {
	cleanEnv(t)
	col := &collector{paths: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20t0k")
	var stdout bytes.Buffer
	tel, err := observe.Setup(context.Background(), observe.SetupOptions{OTLPEndpoint: srv.URL, Stdout: &stdout})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "work")
	span.End()
	c, _ := tel.MeterProvider.Meter("test").Int64Counter("ladder.test.pushed")
	c.Add(context.Background(), 1)
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.paths["/v1/traces"] == 0 || col.paths["/v1/metrics"] == 0 {
		t.Fatalf("collector got %v, want /v1/traces and /v1/metrics flushed by Shutdown", col.paths)
	}
	if col.auth != "Bearer t0k" {
		t.Errorf("Authorization %q, want the OTEL_EXPORTER_OTLP_HEADERS value", col.auth)
	}
	if !strings.Contains(stdout.String(), `"Name":"work"`) || !strings.Contains(stdout.String(), "ladder.test.pushed") {
		t.Errorf("stdout exporters wrote %.300s", stdout.String())
	}
}

func TestSetupSamplerFromEnvironment(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")
	tel := setup(t, observe.SetupOptions{})
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "x")
	defer span.End()
	if span.SpanContext().IsSampled() {
		t.Fatal("OTEL_TRACES_SAMPLER=always_off sampled a span")
	}
}

func TestSetupTracesExporterNoneTurnsOTLPOff(t *testing.T) {
	cleanEnv(t)
	col := &collector{paths: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	tel := setup(t, observe.SetupOptions{})
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "x")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.paths["/v1/traces"] != 0 || col.paths["/v1/metrics"] == 0 {
		t.Fatalf("collector got %v: want metrics only", col.paths)
	}
}

func TestSetupSDKDisabledExportsNothing(t *testing.T) {
	cleanEnv(t)
	col := &collector{paths: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SDK_DISABLED", "true")
	tel := setup(t, observe.SetupOptions{})
	c, _ := tel.MeterProvider.Meter("test").Int64Counter("ladder.test.local")
	c.Add(context.Background(), 1)
	if !strings.Contains(scrape(t, tel.Metrics), "ladder_test_local_total") {
		t.Error("Prometheus should still serve the process's own metrics")
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.paths) != 0 {
		t.Fatalf("OTEL_SDK_DISABLED=true still pushed %v", col.paths)
	}
}
