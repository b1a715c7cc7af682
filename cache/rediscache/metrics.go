package rediscache

import (
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

type metrics struct {
	hits, misses, errors, invalidations, resyncs metric.Int64Counter
	attrs                                        metric.MeasurementOption
}

func (m *metrics) init(mp metric.MeterProvider, name string) error {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter("github.com/ladder-go/ladder/cache/rediscache")
	var kv []attribute.KeyValue
	if name != "" {
		kv = append(kv, attribute.String("ladder.cache.name", name))
	}
	m.attrs = metric.WithAttributeSet(attribute.NewSet(kv...))
	var err error
	ctr := func(n, desc, unit string) metric.Int64Counter {
		c, e := meter.Int64Counter(n, metric.WithDescription(desc), metric.WithUnit(unit))
		err = errors.Join(err, e)
		return c
	}
	m.hits = ctr("ladder.cache.l2.hits", "L1 misses answered by Redis.", "{request}")
	m.misses = ctr("ladder.cache.l2.misses", "L1 misses Redis did not have.", "{request}")
	m.errors = ctr("ladder.cache.l2.errors", "Redis commands that failed (the read went on without L2).", "{request}")
	m.invalidations = ctr("ladder.cache.invalidations", "Invalidations received from other instances.", "{message}")
	m.resyncs = ctr("ladder.cache.resyncs", "L1 cleared after the invalidation subscription reconnected.", "{event}")
	return err
}
