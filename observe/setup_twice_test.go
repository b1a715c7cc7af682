package observe_test

import (
	"context"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/observe"
)

// Two Setups in one process (a test suite, a reload) are independent.
func TestSetupTwiceWithRuntimeMetrics(t *testing.T) {
	cleanEnv(t)
	a := setup(t, observe.SetupOptions{RuntimeMetrics: true})
	b := setup(t, observe.SetupOptions{RuntimeMetrics: true})
	if scrape(t, a.Metrics) == "" || scrape(t, b.Metrics) == "" {
		t.Fatal("empty scrape")
	}
	if err := a.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if scrape(t, b.Metrics) == "" {
		t.Fatal("the second Setup stopped serving when the first shut down")
	}
}

// OTEL_TRACES_EXPORTER=console chooses console: a per-signal OTLP endpoint
// variable left in the environment must not turn OTLP on as well.
func TestSetupSignalEndpointDoesNotOverrideTheExporterChoice(t *testing.T) {
	cleanEnv(t)
	col := &collector{paths: map[string]int{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", srv.URL+"/v1/traces")
	t.Setenv("OTEL_TRACES_EXPORTER", "console")
	tel, err := observe.Setup(context.Background(), observe.SetupOptions{Stdout: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "x")
	span.End()
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.paths["/v1/traces"] != 0 {
		t.Fatalf("OTEL_TRACES_EXPORTER=console still pushed spans: %v", col.paths)
	}
}
