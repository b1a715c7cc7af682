package observe

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SetupOptions configures [Setup]. The zero value serves Prometheus
// metrics, keeps spans in-process only (no exporter) and reads the
// standard OTEL_* environment variables; the environment, which operators
// control, wins over the fields where both say something.
type SetupOptions struct {
	// ServiceName, ServiceVersion and ServiceInstance make the resource's
	// service.name, service.version and service.instance.id.
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them. An
	// empty ServiceInstance is a random UUID, one per Setup; an empty
	// name is "unknown_service:<executable>", as the specification says.
	ServiceName, ServiceVersion, ServiceInstance string
	// Attributes are added to the resource (deployment.environment, …).
	Attributes []attribute.KeyValue

	// OTLPEndpoint, an http(s) URL such as "http://collector:4318",
	// turns on OTLP over HTTP for traces and metrics (paths /v1/traces and
	// /v1/metrics are appended, as for OTEL_EXPORTER_OTLP_ENDPOINT). Empty
	// means the environment decides: OTEL_EXPORTER_OTLP_ENDPOINT,
	// OTEL_EXPORTER_OTLP_{TRACES,METRICS}_ENDPOINT or "otlp" in
	// OTEL_{TRACES,METRICS}_EXPORTER.
	OTLPEndpoint string
	// Stdout, if set, receives spans and metrics as JSON (for development);
	// "console" in OTEL_{TRACES,METRICS}_EXPORTER writes them to os.Stdout.
	Stdout io.Writer
	// MetricInterval is how often metrics are pushed to OTLP or Stdout;
	// zero means OTEL_METRIC_EXPORT_INTERVAL or else 60s. Negative is an
	// error. (Prometheus and Reader are pulled, not pushed.)
	MetricInterval time.Duration
	// Sampler decides which traces are recorded; nil means
	// OTEL_TRACES_SAMPLER or else parentbased_always_on.
	Sampler sdktrace.Sampler
	// RuntimeMetrics adds Go runtime (goroutines, memory, GC goal) and
	// process CPU time metrics: the saturation signals of one box.
	RuntimeMetrics bool
}

// Telemetry is what [Setup] built. Hand MeterProvider and TracerProvider
// to every ladder package's options (or call SetGlobal), serve Metrics on
// an operators' listener, and call Shutdown before the process exits.
type Telemetry struct {
	MeterProvider  *sdkmetric.MeterProvider
	TracerProvider *sdktrace.TracerProvider
	// Reader reads the MeterProvider's metrics in-process (the status
	// page and the advisor use it). It is the reader behind Metrics: one
	// aggregation serves both, so every measurement is recorded once per
	// pushed exporter plus once for both pulls.
	Reader sdkmetric.Reader
	// Metrics serves the Prometheus exposition format from a private
	// registry (never the global default one).
	Metrics http.Handler
	// Propagator is W3C trace context and baggage, or what
	// OTEL_PROPAGATORS names.
	Propagator propagation.TextMapPropagator
	// Resource describes this process (service name, version, instance).
	Resource *resource.Resource

	once     sync.Once
	shutdown []func(context.Context) error
	exports  exportGuard
	err      error
}

// Setup builds the SDK meter and tracer providers with a resource, a
// Prometheus exporter on a private registry, stdout exporters when asked
// and OTLP over HTTP when configured, honouring the standard OTEL_*
// environment variables. A malformed variable or endpoint is an error
// wrapping [ErrInvalidOptions] naming it (the SDK alone would log it and
// carry on with a default). Setup sets no global state: see
// [Telemetry.SetGlobal]. On error nothing is left running.
func Setup(ctx context.Context, opts SetupOptions) (*Telemetry, error) {
	cfg, err := readConfig(opts, env{get: os.LookupEnv})
	if err != nil {
		return nil, err
	}
	res, err := newResource(ctx, opts)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{Resource: res, Propagator: cfg.propagator}
	t.exports.init()
	ok := false
	defer func() {
		if !ok {
			_ = t.Shutdown(context.WithoutCancel(ctx))
		}
	}()

	reg := prometheus.NewRegistry()
	prom, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("observe: prometheus exporter: %w", err)
	}
	t.Reader = prom
	t.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res), sdkmetric.WithReader(prom)}
	topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSampler(cfg.sampler)}

	if cfg.otlpTraces != nil {
		exp, err := otlptracehttp.New(ctx, append(cfg.otlpCommonTrace(), otlptracehttp.WithEndpointURL(cfg.otlpTraces.String()))...)
		if err != nil {
			return nil, fmt.Errorf("observe: otlp trace exporter: %w", err)
		}
		topts = append(topts, sdktrace.WithBatcher(guardedSpans{exp, &t.exports}))
	}
	if cfg.otlpMetrics != nil {
		exp, err := otlpmetrichttp.New(ctx, append(cfg.otlpCommonMetric(), otlpmetrichttp.WithEndpointURL(cfg.otlpMetrics.String()))...)
		if err != nil {
			return nil, fmt.Errorf("observe: otlp metric exporter: %w", err)
		}
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(guardedMetrics{exp, &t.exports}, sdkmetric.WithInterval(cfg.interval))))
	}
	if cfg.stdoutTraces != nil {
		exp, err := stdouttrace.New(stdouttrace.WithWriter(cfg.stdoutTraces))
		if err != nil {
			return nil, fmt.Errorf("observe: stdout trace exporter: %w", err)
		}
		topts = append(topts, sdktrace.WithBatcher(exp))
	}
	if cfg.stdoutMetrics != nil {
		exp, err := stdoutmetric.New(stdoutmetric.WithWriter(cfg.stdoutMetrics))
		if err != nil {
			return nil, fmt.Errorf("observe: stdout metric exporter: %w", err)
		}
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(cfg.interval))))
	}

	t.MeterProvider = sdkmetric.NewMeterProvider(mopts...)
	t.shutdown = append(t.shutdown, t.MeterProvider.Shutdown)
	t.TracerProvider = sdktrace.NewTracerProvider(topts...)
	t.shutdown = append(t.shutdown, t.TracerProvider.Shutdown)
	if opts.RuntimeMetrics {
		reg, err := RegisterRuntimeMetrics(t.MeterProvider)
		if err != nil {
			return nil, err
		}
		t.shutdown = append(t.shutdown, func(context.Context) error { return reg.Unregister() })
	}
	ok = true
	return t, nil
}

// SetGlobal installs the providers and the propagator as OpenTelemetry's
// global ones, which every ladder package uses when its options name
// none. Setup never does it by itself.
func (t *Telemetry) SetGlobal() {
	otel.SetMeterProvider(t.MeterProvider)
	otel.SetTracerProvider(t.TracerProvider)
	otel.SetTextMapPropagator(t.Propagator)
}

// Shutdown flushes every exporter (batched spans, the last metric push)
// and stops them, within ctx. When ctx ends first, the OTLP exports still
// running are cancelled and Shutdown waits for them to return (the SDK's
// batch span processor would otherwise leave its last export running, up
// to its own 30 s timeout, after Shutdown returned): nothing exports after
// Shutdown. It is safe to call more than once; later calls return the
// first result.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.once.Do(func() {
		if ctx.Err() != nil {
			t.exports.abort() // now, not in AfterFunc's goroutine: before any export below starts
		}
		stop := context.AfterFunc(ctx, t.exports.abort)
		defer func() {
			stop()
			t.exports.abort() // none may start after Shutdown
			t.exports.wait()
		}()
		var errs []error
		// A ctx already done goes to the providers as one that never ends:
		// the SDK's TracerProvider.Shutdown, given a done ctx, returns
		// before stopping any span processor (the batch processor's
		// goroutine then stays for the life of the process). The exports
		// are aborted first, so they still stop at once, and ctx's error
		// is returned.
		live := ctx
		if ctx.Err() != nil {
			live = context.WithoutCancel(ctx)
		}
		// Last in, first out: runtime metrics before the provider, traces
		// before metrics so spans ending during shutdown are counted.
		for i := len(t.shutdown) - 1; i >= 0; i-- {
			if err := t.shutdown[i](live); err != nil {
				errs = append(errs, err)
			}
		}
		if live != ctx {
			errs = append(errs, ctx.Err())
		}
		if err := errors.Join(errs...); err != nil {
			t.err = fmt.Errorf("observe: shutdown: %w", err)
		}
	})
	return t.err
}

// config is SetupOptions merged with the environment and checked.
type config struct {
	propagator                  propagation.TextMapPropagator
	sampler                     sdktrace.Sampler
	interval                    time.Duration
	otlpTraces, otlpMetrics     *url.URL
	otlpHeaders                 map[string]string
	otlpTimeout                 time.Duration
	stdoutTraces, stdoutMetrics io.Writer
}

func readConfig(opts SetupOptions, e env) (*config, error) {
	c := &config{sampler: opts.Sampler, interval: opts.MetricInterval}
	if opts.MetricInterval < 0 {
		return nil, fmt.Errorf("%w: MetricInterval %v: must be ≥ 0", ErrInvalidOptions, opts.MetricInterval)
	}
	var err error
	if disabled, err := e.bool("OTEL_SDK_DISABLED"); err != nil {
		return nil, err
	} else if disabled {
		// Honoured as "export nothing": Prometheus and Reader still serve
		// the process's own numbers, which ladder's page and advisor need.
		opts.OTLPEndpoint, opts.Stdout = "", nil
		return c.finish(opts, e, map[string]bool{"none": true}, map[string]bool{"none": true})
	}
	traces, tGiven, err := e.exporters("OTEL_TRACES_EXPORTER", false)
	if err != nil {
		return nil, err
	}
	metrics, mGiven, err := e.exporters("OTEL_METRICS_EXPORTER", true)
	if err != nil {
		return nil, err
	}
	if !tGiven {
		traces = nil
	}
	if !mGiven {
		metrics = nil
	}
	return c.finish(opts, e, traces, metrics)
}

func (c *config) finish(opts SetupOptions, e env, traces, metrics map[string]bool) (*config, error) {
	var err error
	if c.propagator, err = e.propagator(); err != nil {
		return nil, err
	}
	if c.propagator == nil {
		c.propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	if c.sampler == nil {
		if c.sampler, err = e.sampler(); err != nil {
			return nil, err
		}
		if c.sampler == nil {
			c.sampler = sdktrace.ParentBased(sdktrace.AlwaysSample())
		}
	} else if _, err := e.sampler(); err != nil {
		return nil, err // a malformed variable is reported even when the code overrides it
	}
	// A malformed variable is reported even when an option overrides it:
	// the operator who set it believes it is in force.
	envInterval, err := e.millis("OTEL_METRIC_EXPORT_INTERVAL")
	if err != nil {
		return nil, err
	}
	if c.interval == 0 {
		c.interval = envInterval
		if c.interval == 0 {
			c.interval = time.Minute
		}
	}
	if c.otlpTimeout, err = e.millis("OTEL_EXPORTER_OTLP_TIMEOUT"); err != nil {
		return nil, err
	}
	if v, ok := e.lookup("OTEL_RESOURCE_ATTRIBUTES"); ok {
		// The SDK's detector logs a bad escape and drops the attribute.
		if _, err := headers("OTEL_RESOURCE_ATTRIBUTES", v); err != nil {
			return nil, err
		}
	}
	if v, ok := e.lookup("OTEL_EXPORTER_OTLP_HEADERS"); ok {
		if c.otlpHeaders, err = headers("OTEL_EXPORTER_OTLP_HEADERS", v); err != nil {
			return nil, err
		}
	}
	if v, ok := e.lookup("OTEL_EXPORTER_OTLP_PROTOCOL"); ok && v != "http/protobuf" {
		return nil, envErr("OTEL_EXPORTER_OTLP_PROTOCOL", v, "only http/protobuf is supported")
	}

	// OTLP: where to, and whether at all.
	// Every endpoint variable is checked, even those OTLPEndpoint overrides.
	var base *url.URL
	if v, ok := e.lookup("OTEL_EXPORTER_OTLP_ENDPOINT"); ok {
		if base, err = endpoint("OTEL_EXPORTER_OTLP_ENDPOINT", v); err != nil {
			return nil, err
		}
	}
	if opts.OTLPEndpoint != "" {
		if base, err = endpoint("OTLPEndpoint", opts.OTLPEndpoint); err != nil {
			return nil, err
		}
	}
	signal := func(name, path string, set map[string]bool) (*url.URL, error) {
		var u *url.URL
		if v, ok := e.lookup(name); ok {
			own, err := endpoint(name, v)
			if err != nil {
				return nil, err
			}
			if opts.OTLPEndpoint == "" {
				u = own // a signal's own endpoint is used as it is
			}
		}
		switch {
		case u != nil:
		case base != nil:
			u = base.JoinPath(path)
		case set["otlp"]:
			u = &url.URL{Scheme: "http", Host: "localhost:4318", Path: path}
		}
		if set != nil && !set["otlp"] && opts.OTLPEndpoint == "" {
			return nil, nil // OTEL_*_EXPORTER chose others
		}
		return u, nil
	}
	if c.otlpTraces, err = signal("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "v1/traces", traces); err != nil {
		return nil, err
	}
	if c.otlpMetrics, err = signal("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "v1/metrics", metrics); err != nil {
		return nil, err
	}
	if traces["none"] {
		c.otlpTraces = nil
	}
	if metrics["none"] {
		c.otlpMetrics = nil
	}
	c.stdoutTraces, c.stdoutMetrics = opts.Stdout, opts.Stdout
	if c.stdoutTraces == nil && traces["console"] {
		c.stdoutTraces = os.Stdout
	}
	if c.stdoutMetrics == nil && metrics["console"] {
		c.stdoutMetrics = os.Stdout
	}
	return c, nil
}

func (c *config) otlpCommonTrace() []otlptracehttp.Option {
	var o []otlptracehttp.Option
	if c.otlpHeaders != nil {
		o = append(o, otlptracehttp.WithHeaders(c.otlpHeaders))
	}
	if c.otlpTimeout > 0 {
		o = append(o, otlptracehttp.WithTimeout(c.otlpTimeout))
	}
	return o
}

func (c *config) otlpCommonMetric() []otlpmetrichttp.Option {
	var o []otlpmetrichttp.Option
	if c.otlpHeaders != nil {
		o = append(o, otlpmetrichttp.WithHeaders(c.otlpHeaders))
	}
	if c.otlpTimeout > 0 {
		o = append(o, otlpmetrichttp.WithTimeout(c.otlpTimeout))
	}
	return o
}

// newResource builds the resource: the SDK's attributes, the options,
// then OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME over them.
func newResource(ctx context.Context, opts SetupOptions) (*resource.Resource, error) {
	name := opts.ServiceName
	if name == "" {
		exe, _ := os.Executable()
		name = "unknown_service:" + filepath.Base(exe)
	}
	inst := opts.ServiceInstance
	if inst == "" {
		inst = newUUID()
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", name),
		attribute.String("service.instance.id", inst),
	}
	if opts.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", opts.ServiceVersion))
	}
	attrs = append(attrs, opts.Attributes...)
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...), resource.WithFromEnv())
	if err != nil {
		v, _ := os.LookupEnv("OTEL_RESOURCE_ATTRIBUTES")
		return nil, fmt.Errorf("%w: OTEL_RESOURCE_ATTRIBUTES %q: %s", ErrInvalidOptions, redactAttrs(v), strings.TrimPrefix(err.Error(), "partial resource: "))
	}
	return res, nil
}

// redactAttrs shows OTEL_RESOURCE_ATTRIBUTES's keys, not its values.
func redactAttrs(v string) string {
	parts := strings.Split(v, ",")
	for i, p := range parts {
		if k, _, ok := strings.Cut(p, "="); ok {
			parts[i] = k + "=…"
		}
	}
	return strings.Join(parts, ",")
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
