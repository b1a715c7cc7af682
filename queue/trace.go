package queue

import (
	"context"
	"encoding/hex"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// metaTraceparent is the Job.Meta key carrying the W3C traceparent of the
// enqueue, which the run's span links to.
const metaTraceparent = "traceparent"

// traceparent formats ctx's span context as a W3C traceparent (the format
// propagation.TraceContext writes), or "" when ctx has no valid span. The
// Client injects the caller's span rather than starting a producer span
// of its own: an enqueue then costs one string, not a span.
func traceparent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	var b [55]byte
	b[0], b[1], b[2] = '0', '0', '-'
	tid, sid := sc.TraceID(), sc.SpanID()
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	f := byte(sc.TraceFlags() & trace.FlagsSampled)
	hex.Encode(b[53:55], []byte{f})
	return string(b[:])
}

// parseTraceparent reads a traceparent written by traceparent (version 00,
// or a later version's first four fields, as W3C asks); ok is false for
// anything else.
func parseTraceparent(s string) (trace.SpanContext, bool) {
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' || (len(s) > 55 && s[55] != '-') {
		return trace.SpanContext{}, false
	}
	var ver [1]byte
	if _, err := hex.Decode(ver[:], []byte(s[0:2])); err != nil || ver[0] == 0xff || (ver[0] == 0 && len(s) != 55) {
		return trace.SpanContext{}, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	var fl [1]byte
	if _, err := hex.Decode(tid[:], []byte(s[3:35])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(sid[:], []byte(s[36:52])); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(fl[:], []byte(s[53:55])); err != nil {
		return trace.SpanContext{}, false
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(fl[0]) & trace.FlagsSampled, Remote: true,
	})
	return sc, sc.IsValid()
}

// startSpan starts the consumer span of one attempt, linked to the enqueue
// through Meta["traceparent"]. Its options are precomputed per (queue,
// kind); per-job attributes are added only to a recording span.
func (w *Worker) startSpan(base context.Context, q *wqueue, j *Job) (context.Context, trace.Span) {
	kt := q.kindTel(j.Kind)
	opts := kt.spanOpts
	if tp := j.Meta[metaTraceparent]; tp != "" {
		if sc, ok := parseTraceparent(tp); ok {
			opts = append(opts[:len(opts):len(opts)], trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	ctx, span := w.tracer.Start(base, q.tel.spanName, opts...)
	if span.IsRecording() {
		span.SetAttributes(attribute.String("messaging.message.id", j.ID), attribute.Int("ladder.queue.attempt", j.Attempt))
	}
	return ctx, span
}

func endSpan(span trace.Span, err error, outcome string) {
	if span == nil || !span.IsRecording() {
		return
	}
	span.SetAttributes(attrOutcome.String(outcome))
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// tracing reports whether spans would go anywhere: false for a noop
// provider and for OTel's global provider while no SDK is installed (it
// hands out non-recording spans, at a cost per job of about a fifth of a
// no-op job's). Checked once per fetched batch, so installing an SDK later
// is picked up.
func (w *Worker) tracing() bool {
	tp := w.opts.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	switch tp.(type) {
	case noop.TracerProvider, *noop.TracerProvider:
		return false
	}
	return !isGlobalDelegate(tp)
}
