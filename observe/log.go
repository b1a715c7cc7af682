package observe

import (
	"context"
	"log/slog"
	"os"

	"go.opentelemetry.io/otel/trace"
)

// LogHandler is a slog.Handler that adds trace_id and span_id from the
// record's context (log with InfoContext and friends) to another handler's
// output. The IDs stay at the top level of the record whatever groups
// the logger opened with WithGroup, so a log search by trace_id finds
// every line. It passes testing/slogtest.
type LogHandler struct {
	next slog.Handler // the wrapped handler before the first WithGroup
	// ops are the WithAttrs/WithGroup calls from the first WithGroup on,
	// replayed over next plus the IDs when a record carries a span; with
	// no group open, the IDs are added to the record itself.
	ops  []logOp
	full slog.Handler // next with ops applied: used for records without a span
}

type logOp struct {
	group string
	attrs []slog.Attr
}

// NewLogHandler wraps next; nil means a JSON handler on os.Stderr.
func NewLogHandler(next slog.Handler) *LogHandler {
	if next == nil {
		next = slog.NewJSONHandler(os.Stderr, nil)
	}
	return &LogHandler{next: next, full: next}
}

// Enabled reports whether the wrapped handler handles level.
func (h *LogHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.full.Enabled(ctx, level)
}

// Handle adds the IDs of ctx's span, if it has a valid one, and passes r on.
func (h *LogHandler) Handle(ctx context.Context, r slog.Record) error {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return h.full.Handle(ctx, r)
	}
	ids := [2]slog.Attr{slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String())}
	if len(h.ops) == 0 {
		r = r.Clone()
		r.AddAttrs(ids[:]...)
		return h.next.Handle(ctx, r)
	}
	// A group is open: the IDs go in before it, then the group and the
	// attributes added since are rebuilt over them.
	out := h.next.WithAttrs(ids[:])
	for _, op := range h.ops {
		if op.group != "" {
			out = out.WithGroup(op.group)
		} else {
			out = out.WithAttrs(op.attrs)
		}
	}
	return out.Handle(ctx, r)
}

// WithAttrs returns a handler whose records carry attrs as well.
func (h *LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.ops) == 0 {
		n := h.next.WithAttrs(attrs)
		return &LogHandler{next: n, full: n}
	}
	return &LogHandler{next: h.next, ops: append(h.ops[:len(h.ops):len(h.ops)], logOp{attrs: attrs}), full: h.full.WithAttrs(attrs)}
}

// WithGroup returns a handler that puts the record's attributes in group
// name; trace_id and span_id stay at the top level.
func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &LogHandler{next: h.next, ops: append(h.ops[:len(h.ops):len(h.ops)], logOp{group: name}), full: h.full.WithGroup(name)}
}
