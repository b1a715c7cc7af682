package observe_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/observe"
)

// A malformed variable is an error even when an option overrides it: the
// operator set it and believes it is in force.
func TestSetupRejectsMalformedEnvironmentUnderOptions(t *testing.T) {
	for _, tc := range []struct{ name, value string }{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector"},
		{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "::nope"},
		{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "localhost"},
		{"OTEL_METRIC_EXPORT_INTERVAL", "1m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cleanEnv(t)
			t.Setenv(tc.name, tc.value)
			tel, err := observe.Setup(context.Background(), observe.SetupOptions{
				OTLPEndpoint: "http://127.0.0.1:1", MetricInterval: 1e9})
			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatal("Setup accepted it")
			}
			if !errors.Is(err, observe.ErrInvalidOptions) || !strings.Contains(err.Error(), tc.name) {
				t.Fatalf("err %q: want ErrInvalidOptions naming %s", err, tc.name)
			}
		})
	}
}

// The sampler's name is case-insensitive; so must its argument's use be.
func TestSetupSamplerArgumentWhateverTheNamesCase(t *testing.T) {
	cleanEnv(t)
	t.Setenv("OTEL_TRACES_SAMPLER", "TraceIdRatio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0")
	tel := setup(t, observe.SetupOptions{})
	for range 100 {
		_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "x")
		span.End()
		if span.SpanContext().IsSampled() {
			t.Fatal("OTEL_TRACES_SAMPLER=TraceIdRatio with ARG 0 sampled a span")
		}
	}
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "lots")
	if tel, err := observe.Setup(context.Background(), observe.SetupOptions{}); err == nil {
		_ = tel.Shutdown(context.Background())
		t.Fatal("a malformed OTEL_TRACES_SAMPLER_ARG for TraceIdRatio was accepted")
	}
}
