// Package observe is ladder's observability: one call to set up
// OpenTelemetry, HTTP middleware for the four golden signals,
// trace-correlated structured logs, and the wiring that carries a
// request's trace ID through every other ladder package.
//
// Stage: every stage, from the first. "Observability is not a phase 2
// deliverable. It's the only way to know which bottleneck to fix next."
// A single box needs its latency, traffic, errors and saturation before
// it needs a load balancer; real metrics, not predictions, say when to
// climb the next rung.
//
// # Setup
//
// [Setup] builds the SDK meter and tracer providers with a resource
// (service name, version, instance), serves Prometheus from a private
// registry ([Telemetry.Metrics]), keeps an in-process reader
// ([Telemetry.Reader]) for pages and advisors, writes to stdout for
// development and to OTLP over HTTP when configured, and honours the
// standard OTEL_* variables (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_EXPORTER_OTLP_ENDPOINT and its per-signal forms, _HEADERS,
// _TIMEOUT, _PROTOCOL, OTEL_TRACES_SAMPLER and _ARG, OTEL_PROPAGATORS,
// OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_METRIC_EXPORT_INTERVAL,
// OTEL_SDK_DISABLED). A malformed one is an error from Setup naming it, where
// the SDK alone would log it and carry on. [Telemetry.Shutdown] flushes
// everything. observe is the only core package that imports the SDK:
// the others take a metric.MeterProvider and trace.TracerProvider (API
// only) and default to the global ones, which [Telemetry.SetGlobal] sets.
//
// # Golden signals
//
// [Middleware] records http.server.request.duration (latency; traffic and
// errors through its count by method, status code, route and error.type)
// and http.server.active_requests (saturation), starts a server span
// continuing the caller's W3C traceparent, and gives each request an ID
// and a logger ([RequestID], [Logger]). [RegisterRuntimeMetrics] adds the
// process's goroutines, memory and CPU time. Routes come from r.Pattern,
// so cardinality is bounded by the mux's patterns.
//
// # Logs
//
// [LogHandler] adds trace_id and span_id to every record logged with a
// context holding a span, over any slog.Handler (JSON by default).
//
// # One trace through the whole path
//
// A trace started (or continued) by [Middleware] flows on through ctx:
//
//   - lb.Proxy and lb.Transport start a client span per try (their
//     TracerProvider field) and inject it into the request sent to the
//     backend (their Propagator field; by default the global propagator),
//     so the backend's server span is its child.
//   - cache.Aside runs a loader on the ctx of the caller that started the
//     load (without its cancellation): the loader's spans are children of
//     that caller's span. Callers that joined the same load wait for it
//     under their own spans, which get a "cache.load.joined" event and a
//     link to the span of the caller that started it.
//   - replica.Router passes ctx to database/sql, so an instrumented
//     driver's spans are children of the request's span.
//   - queue.Client writes the caller's span into the job's
//     Meta["traceparent"], and the worker's run span links to it (a new
//     trace per run, linked to the enqueue, as messaging conventions ask).
//
// observe imports no other ladder package; the test
// TestTraceFromProxyReachesQueuedJob follows one trace ID from lb.Proxy
// through a cache load to a job's run.
//
// # Which rung next
//
// An [Advisor] reads the golden signals every ladder package already
// emits, from an in-process reader ([Telemetry.Reader]), and names the
// binding bottleneck and the next move with the numbers that triggered it
// (database saturated and mostly reads → replicas or a cache; queue age
// growing → more workers; one shard hot → split it or isolate the key;
// one web box saturated → more web servers behind lb; …). Its rules are
// data with thresholds ([DefaultRules]); a rule that panics is reported
// failed and the others run. A [Scaler] scripts a move (add a web server
// to an lb pool, remove it when load falls) with hysteresis and a
// cool-down. [SLO] evaluates the SRE workbook's multi-window,
// multi-burn-rate alerts in process, and [PrometheusRules] writes the
// same as Prometheus recording and alerting rules.
//
// # Status page
//
// [Page] is a live status page (server-rendered HTML and SVG, no
// JavaScript) for an admin listener: backends, health, breakers, cache,
// queues with a dead-letter retry, replicas, shards, golden-signal charts,
// SLOs and advice. Sections appear when their instruments do; actions are
// registered explicitly and need an Authorize func, a CSRF token and a
// same-origin request (403 otherwise).
//
// # Telemetry cost
//
// Every package's hot path costs at most about 10 % more with the SDK
// recording than with telemetry off (bench/, BenchmarkTelemetry).
// Nanosecond paths count with atomics exported through observable
// instruments; latency histograms are recorded where an operation costs
// microseconds: ladder.lb.request.duration per try in lb.Proxy and
// lb.Transport, not in a Pool's done. Round robin's pick+done with
// telemetry on is the known miss (about 2×: two atomics for exact
// per-backend counts on a path of one).
package observe
