package observe

import (
	"context"
	"sync"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// exportGuard tracks the OTLP exports in flight so that Shutdown can
// cancel them (abort) and wait for them to return.
type exportGuard struct {
	aborted context.Context
	cancel  context.CancelFunc

	mu   sync.Mutex
	n    int           // exports in flight
	idle chan struct{} // closed when n drops to 0, while someone waits
}

func (g *exportGuard) init() {
	g.aborted, g.cancel = context.WithCancel(context.Background())
}

// enter starts an export: its ctx is cancelled at abort. done ends it.
func (g *exportGuard) enter(ctx context.Context) (context.Context, func()) {
	if g.cancel == nil { // a Telemetry not built by Setup
		return ctx, func() {}
	}
	g.mu.Lock()
	g.n++
	g.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(g.aborted, cancel)
	return ctx, func() {
		stop()
		cancel()
		g.mu.Lock()
		g.n--
		if g.n == 0 && g.idle != nil {
			close(g.idle)
			g.idle = nil
		}
		g.mu.Unlock()
	}
}

// abort cancels every export in flight and every later one.
func (g *exportGuard) abort() {
	if g.cancel != nil {
		g.cancel()
	}
}

// wait returns when no export is in flight. After abort, exports return as
// soon as their HTTP request sees its ctx cancelled.
func (g *exportGuard) wait() {
	g.mu.Lock()
	if g.n == 0 {
		g.mu.Unlock()
		return
	}
	if g.idle == nil {
		g.idle = make(chan struct{})
	}
	idle := g.idle
	g.mu.Unlock()
	<-idle
}

// guardedSpans is a span exporter whose exports Shutdown can abort.
type guardedSpans struct {
	sdktrace.SpanExporter
	g *exportGuard
}

func (e guardedSpans) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	ctx, done := e.g.enter(ctx)
	defer done()
	return e.SpanExporter.ExportSpans(ctx, spans)
}

func (e guardedSpans) Shutdown(ctx context.Context) error {
	ctx, done := e.g.enter(ctx)
	defer done()
	return e.SpanExporter.Shutdown(ctx)
}

// guardedMetrics is a metric exporter whose exports Shutdown can abort.
type guardedMetrics struct {
	sdkmetric.Exporter
	g *exportGuard
}

func (e guardedMetrics) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	ctx, done := e.g.enter(ctx)
	defer done()
	return e.Exporter.Export(ctx, rm)
}

func (e guardedMetrics) Shutdown(ctx context.Context) error {
	ctx, done := e.g.enter(ctx)
	defer done()
	return e.Exporter.Shutdown(ctx)
}
