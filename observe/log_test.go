package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"testing/slogtest"

	"go.opentelemetry.io/otel/trace"

	"github.com/ladder-go/ladder/observe"
)

var (
	logTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	logSpanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

func spanCtx(ctx context.Context) context.Context {
	return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: logTraceID, SpanID: logSpanID, TraceFlags: trace.FlagsSampled,
	}))
}

// withSpan hands every record to h with a span in its context, so slogtest
// runs the paths that add the IDs.
type withSpan struct{ slog.Handler }

func (w withSpan) Handle(ctx context.Context, r slog.Record) error {
	return w.Handler.Handle(spanCtx(ctx), r)
}
func (w withSpan) WithAttrs(as []slog.Attr) slog.Handler { return withSpan{w.Handler.WithAttrs(as)} }
func (w withSpan) WithGroup(n string) slog.Handler       { return withSpan{w.Handler.WithGroup(n)} }

func parseLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(buf.Bytes(), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func TestLogHandlerPassesSlogtest(t *testing.T) {
	for _, traced := range []bool{false, true} {
		name := "without span"
		if traced {
			name = "with span"
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			var h slog.Handler = observe.NewLogHandler(slog.NewJSONHandler(&buf, nil))
			if traced {
				h = withSpan{h}
			}
			if err := slogtest.TestHandler(h, func() []map[string]any { return parseLines(t, &buf) }); err != nil {
				t.Fatal(err)
			}
			if traced {
				for _, m := range parseLines(t, &buf) {
					if m["trace_id"] != logTraceID.String() || m["span_id"] != logSpanID.String() {
						t.Fatalf("record without top-level IDs: %v", m)
					}
				}
			}
		})
	}
}

func TestLogHandlerKeepsIDsAtTopLevelUnderGroups(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(observe.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
	l = l.With("svc", "api").WithGroup("req").With("path", "/x").WithGroup("db")
	l.InfoContext(spanCtx(context.Background()), "query", "rows", 3)
	l.InfoContext(context.Background(), "no span", "rows", 4)
	lines := parseLines(t, &buf)
	m := lines[0]
	if m["trace_id"] != logTraceID.String() || m["span_id"] != logSpanID.String() || m["svc"] != "api" {
		t.Fatalf("top level %v", m)
	}
	req := m["req"].(map[string]any)
	if req["path"] != "/x" || req["db"].(map[string]any)["rows"] != 3.0 {
		t.Fatalf("groups %v", req)
	}
	if _, ok := lines[1]["trace_id"]; ok {
		t.Fatalf("a record without a span got a trace_id: %v", lines[1])
	}
}

func TestNewLogHandlerDefaultsToJSON(t *testing.T) {
	h := observe.NewLogHandler(nil)
	if !h.Enabled(context.Background(), slog.LevelInfo) || h.Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("default handler should log Info and above")
	}
}
