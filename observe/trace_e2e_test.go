package observe_test

// This file follows one trace through ladder's packages, as issue 14 asks:
// "a trace ID set at lb.Proxy reaches a job run through a queue". observe
// imports no sibling; only its tests do.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/observe"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/replica"
)

// traceSeen notes the trace ID each stage saw in its ctx.
type traceSeen struct {
	mu   sync.Mutex
	seen map[string]trace.TraceID
}

func (s *traceSeen) note(stage string, ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[stage] = trace.SpanContextFromContext(ctx).TraceID()
}

func (s *traceSeen) get(stage string) trace.TraceID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[stage]
}

// spyDriver is a database/sql driver whose queries note the span of their
// ctx, as an instrumented driver would parent its spans on it.
type spyDriver struct{ seen *traceSeen }

func (d spyDriver) Open(string) (driver.Conn, error)             { return spyConn(d), nil }
func (d spyDriver) Connect(context.Context) (driver.Conn, error) { return spyConn(d), nil }
func (d spyDriver) Driver() driver.Driver                        { return d }

type spyConn struct{ seen *traceSeen }

func (spyConn) Prepare(string) (driver.Stmt, error) { return nil, driver.ErrSkip }
func (spyConn) Close() error                        { return nil }
func (spyConn) Begin() (driver.Tx, error)           { return nil, driver.ErrSkip }
func (c spyConn) QueryContext(ctx context.Context, q string, _ []driver.NamedValue) (driver.Rows, error) {
	if q == "SELECT name FROM users" {
		c.seen.note("replica query", ctx)
	}
	return &oneRow{}, nil
}

type oneRow struct{ done bool }

func (*oneRow) Columns() []string { return []string{"name"} }
func (*oneRow) Close() error      { return nil }
func (r *oneRow) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0] = "ada"
	return nil
}

type welcome struct{ To string }

func (welcome) Kind() string { return "welcome" }

func TestTraceFromProxyReachesQueuedJob(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())
	prop := propagation.TraceContext{}
	quiet := slog.New(slog.DiscardHandler)
	seen := &traceSeen{seen: map[string]trace.TraceID{}}
	mw, err := observe.NewMiddleware(observe.MiddlewareOptions{MeterProvider: mp, TracerProvider: tp, Propagator: prop, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}

	// The worker tier: a queue, its client (used by the web tier) and a worker.
	backend, _ := queue.NewMemory(queue.MemoryOptions{})
	client, _ := queue.NewClient(backend, queue.ClientOptions{TracerProvider: tp, MeterProvider: mp})
	ran := make(chan struct{})
	h := &queue.Handlers{}
	if err := queue.Handle(h, func(ctx context.Context, job *queue.Typed[welcome]) error {
		close(ran)
		return nil
	}, queue.HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	worker, err := queue.NewWorker(backend, h, queue.WorkerOptions{TracerProvider: tp, MeterProvider: mp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}

	// The data tier: a cache in front of a replicated database.
	users, _ := cache.New[string, string](nil, cache.Options{TTL: time.Minute, MeterProvider: mp})
	defer users.Close()
	primary := sql.OpenDB(spyDriver{seen})
	rep := sql.OpenDB(spyDriver{seen})
	defer primary.Close()
	defer rep.Close()
	router, err := replica.New(primary, []replica.Replica{{Name: "r1", DB: rep}}, replica.Options{MeterProvider: mp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer router.Close()

	// The web tier behind the proxy.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		seen.note("backend handler", ctx)
		name, err := users.Get(ctx, "ada", func(ctx context.Context, k string) (string, error) {
			seen.note("cache load", ctx)
			var n string
			err := router.QueryRowContext(ctx, "SELECT name FROM users").Scan(&n)
			return n, err
		})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		if _, err := client.Enqueue(ctx, welcome{To: name}, queue.EnqueueOptions{}); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	web := httptest.NewServer(mw.Wrap(mux))
	defer web.Close()
	u, _ := url.Parse(web.URL)
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{MeterProvider: mp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(mw.Wrap(&lb.Proxy{Pool: pool, Propagator: prop, Logger: quiet}))
	defer front.Close()

	// A client arrives without a trace: the trace starts at the proxy tier.
	resp, err := http.Post(front.URL+"/signup", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("status %d", resp.StatusCode)
	}

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- worker.Run(ctx) }()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the job did not run in 10s")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var proxySpan, webSpan, run sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch {
		case s.SpanKind() == trace.SpanKindServer && !s.Parent().IsValid():
			proxySpan = s
		case s.SpanKind() == trace.SpanKindServer:
			webSpan = s
		case s.SpanKind() == trace.SpanKindConsumer:
			run = s
		}
	}
	if proxySpan == nil || webSpan == nil {
		t.Fatalf("want a root server span (proxy tier) and a child one (web tier); got %v", spans.Ended())
	}
	want := proxySpan.SpanContext().TraceID().String()
	if webSpan.Parent().SpanID() != proxySpan.SpanContext().SpanID() || webSpan.SpanContext().TraceID().String() != want {
		t.Errorf("web tier span's parent %v, want the proxy tier's span %v", webSpan.Parent(), proxySpan.SpanContext())
	}
	for _, stage := range []string{"backend handler", "cache load", "replica query"} {
		if got := seen.get(stage).String(); got != want {
			t.Errorf("%s saw trace %s, want %s", stage, got, want)
		}
	}
	if run == nil {
		t.Fatal("no consumer span for the job's run")
	}
	linked := false
	for _, l := range run.Links() {
		linked = linked || l.SpanContext.TraceID().String() == want
	}
	if !linked {
		t.Fatalf("the run span %q links %v, want a link to trace %s", run.Name(), run.Links(), want)
	}
}
