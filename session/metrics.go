package session

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/session"

type op int

const (
	opLoad op = iota
	opCreate
	opApply
	opRenew
	opDestroy
	opDestroyUser
	opTake
	numOps
)

var opNames = [numOps]string{"load", "create", "apply", "renew", "destroy", "destroy_user", "take"}

type metrics struct {
	created, destroyed, renewed metric.Int64Counter
	errors                      metric.Int64Counter
	duration                    metric.Float64Histogram
	// Option slices built once: passing a single option to a variadic parameter
	// would allocate a slice on every call.
	ok, failed, canceled [numOps]attrOpts
}

type attrOpts struct {
	record []metric.RecordOption
	add    []metric.AddOption
}

func newMetrics(mp metric.MeterProvider) (*metrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(scope)
	m := &metrics{}
	var errs [5]error
	m.created, errs[0] = meter.Int64Counter("ladder.session.created", metric.WithUnit("{session}"),
		metric.WithDescription("Sessions created (first commit of a new session)."))
	m.destroyed, errs[1] = meter.Int64Counter("ladder.session.destroyed", metric.WithUnit("{session}"),
		metric.WithDescription("Sessions destroyed by logout or DestroyAll."))
	m.renewed, errs[2] = meter.Int64Counter("ladder.session.renewed", metric.WithUnit("{session}"),
		metric.WithDescription("Session identifiers renewed."))
	m.errors, errs[3] = meter.Int64Counter("ladder.session.store.errors", metric.WithUnit("{error}"),
		metric.WithDescription("Failed store operations."))
	m.duration, errs[4] = meter.Float64Histogram("ladder.session.store.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of store operations."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	for i := range numOps {
		opAttr := attribute.String("ladder.session.operation", opNames[i])
		m.ok[i] = newAttrOpts(opAttr)
		m.failed[i] = newAttrOpts(opAttr, attribute.String("error.type", "store"))
		m.canceled[i] = newAttrOpts(opAttr, attribute.String("error.type", "canceled"))
	}
	return m, nil
}

// observe records one store call. ErrNotFound, ErrRenewed, ErrExists, ErrNoValue and ErrTooLarge are
// answers, not failures.
func (m *metrics) observe(ctx context.Context, o op, start, end time.Time, err error) {
	attrs := m.ok[o]
	if err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrRenewed) && !errors.Is(err, ErrExists) &&
		!errors.Is(err, ErrNoValue) && !errors.Is(err, ErrTooLarge) {
		attrs = m.failed[o]
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			attrs = m.canceled[o]
		}
		m.errors.Add(ctx, 1, attrs.add...)
	}
	m.duration.Record(ctx, end.Sub(start).Seconds(), attrs.record...)
}

func newAttrOpts(kv ...attribute.KeyValue) attrOpts {
	o := metric.WithAttributeSet(attribute.NewSet(kv...))
	return attrOpts{record: []metric.RecordOption{o}, add: []metric.AddOption{o}}
}
