package queue

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// The run's consumer span links to the span that enqueued the job, through
// Meta["traceparent"]; metrics count sent, consumed and processed jobs by
// queue, kind and outcome.
func TestTelemetryLinksRunToEnqueueAndCounts(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		rec := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		defer func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) }()

		m, _ := NewMemory(MemoryOptions{})
		c, _ := NewClient(m, ClientOptions{MeterProvider: mp, TracerProvider: tp})
		ctx, producer := tp.Tracer("test").Start(context.Background(), "http request")
		j, err := c.NewJob(ctx, argsA{}, EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := j.Meta["traceparent"]; got != traceparent(ctx) || got == "" {
			t.Fatalf("traceparent %q", got)
		}
		if sc, ok := parseTraceparent(j.Meta["traceparent"]); !ok || sc.TraceID() != producer.SpanContext().TraceID() || sc.SpanID() != producer.SpanContext().SpanID() {
			t.Fatalf("traceparent does not round-trip: %v", sc)
		}
		enqueue(t, c, argsA{}, EnqueueOptions{}) // no span: no traceparent
		if _, err := c.Enqueue(ctx, argsA{N: 1}, EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		producer.End()
		h := &Handlers{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			if !trace.SpanFromContext(ctx).IsRecording() {
				t.Error("handler ctx carries no recording span")
			}
			return nil
		}, HandlerOptions{})
		start(t, m, h, WorkerOptions{MeterProvider: mp, TracerProvider: tp})
		time.Sleep(time.Second)
		synctest.Wait()

		var linked int
		for _, s := range rec.Ended() {
			if s.SpanKind() != trace.SpanKindConsumer {
				continue
			}
			if s.Name() != "process default" {
				t.Errorf("span name %q", s.Name())
			}
			for _, l := range s.Links() {
				if l.SpanContext.SpanID() == producer.SpanContext().SpanID() {
					linked++
				}
			}
		}
		if linked != 1 {
			t.Fatalf("%d consumer spans link to the producer span, want 1 (spans: %d)", linked, len(rec.Ended()))
		}

		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, sm := range rm.ScopeMetrics {
			if sm.Scope.Name != scope {
				continue
			}
			for _, mt := range sm.Metrics {
				got[mt.Name] = true
				switch d := mt.Data.(type) {
				case metricdata.Sum[int64]:
					if mt.Name == "messaging.client.sent.messages" && d.DataPoints[0].Value != 2 {
						t.Errorf("sent %d, want 2", d.DataPoints[0].Value)
					}
				case metricdata.Histogram[float64]:
					if mt.Name != "messaging.process.duration" {
						continue
					}
					var n uint64
					for _, dp := range d.DataPoints {
						n += dp.Count
						if v, _ := dp.Attributes.Value(attrOutcome); v != attribute.StringValue("done") {
							t.Errorf("outcome %v", v)
						}
						if v, _ := dp.Attributes.Value(attrKind); v != attribute.StringValue("a") {
							t.Errorf("kind %v", v)
						}
					}
					if n != 2 {
						t.Errorf("process.duration count %d, want 2", n)
					}
				}
			}
		}
		for _, name := range []string{"messaging.client.sent.messages", "messaging.client.consumed.messages", "messaging.process.duration",
			"ladder.queue.outcomes", "ladder.queue.worker.running", "ladder.queue.depth", "ladder.queue.dead", "ladder.queue.oldest_age"} {
			if !got[name] {
				t.Errorf("no %s (have %v)", name, got)
			}
		}
	})
}

func TestParseTraceparentRejectsJunk(t *testing.T) {
	for _, s := range []string{"", "00-", "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"} {
		if _, ok := parseTraceparent(s); ok {
			t.Errorf("parseTraceparent(%q) accepted", s)
		}
	}
	if _, ok := parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); !ok {
		t.Error("valid traceparent refused")
	}
}
