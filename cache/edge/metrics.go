package edge

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/cache/edge"

func itoa(n int) string { return strconv.Itoa(n) }

// meters exports the Cache's atomic counters through observable
// instruments (a hit makes no synchronous instrument call) and records the
// origin fetch duration synchronously (a fetch costs microseconds or more).
type meters struct {
	reg    metric.Registration
	origin metric.Float64Histogram
}

func newMeters(c *Cache, mp metric.MeterProvider) (*meters, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	req, err := m.Int64ObservableCounter("ladder.edge.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Requests by how the cache answered them."))
	if err != nil {
		return nil, invalid("MeterProvider: %v", err)
	}
	purges, err := m.Int64ObservableCounter("ladder.edge.purges", metric.WithUnit("{purge}"),
		metric.WithDescription("Purges that removed at least one object."))
	if err != nil {
		return nil, invalid("MeterProvider: %v", err)
	}
	bytes, err := m.Int64ObservableGauge("ladder.edge.stored.bytes", metric.WithUnit("By"),
		metric.WithDescription("Bytes stored (headers and bodies)."))
	if err != nil {
		return nil, invalid("MeterProvider: %v", err)
	}
	objects, err := m.Int64ObservableGauge("ladder.edge.stored.objects", metric.WithUnit("{object}"),
		metric.WithDescription("Responses stored."))
	if err != nil {
		return nil, invalid("MeterProvider: %v", err)
	}
	origin, err := m.Float64Histogram("ladder.edge.origin.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of one origin fetch by the cache."))
	if err != nil {
		return nil, invalid("MeterProvider: %v", err)
	}
	key := attribute.Key("ladder.edge.result")
	sets := map[string]metric.ObserveOption{}
	for _, r := range []string{"hit", "miss", "stale", "revalidated", "bypass", "collapsed"} {
		sets[r] = metric.WithAttributeSet(attribute.NewSet(key.String(r)))
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := &c.stats
		o.ObserveInt64(req, s.hits.Load(), sets["hit"])
		o.ObserveInt64(req, s.misses.Load(), sets["miss"])
		o.ObserveInt64(req, s.stale.Load(), sets["stale"])
		o.ObserveInt64(req, s.revalidated.Load(), sets["revalidated"])
		o.ObserveInt64(req, s.bypass.Load(), sets["bypass"])
		o.ObserveInt64(req, s.collapsed.Load(), sets["collapsed"])
		o.ObserveInt64(purges, s.purges.Load())
		b, n := c.stored()
		o.ObserveInt64(bytes, b)
		o.ObserveInt64(objects, n)
		return nil
	}, req, purges, bytes, objects)
	if err != nil {
		return nil, invalid("MeterProvider: %v", err)
	}
	return &meters{reg: reg, origin: origin}, nil
}

func (m *meters) originDone(ctx context.Context, d time.Duration) {
	m.origin.Record(ctx, d.Seconds())
}

func (m *meters) close() { m.reg.Unregister() }
