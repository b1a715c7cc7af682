package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/internal/stripe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/cache"

// counters are plain atomics; OTel reads them through an observable
// callback, so a hit costs one uncontended atomic add whatever the SDK.
type counters struct {
	hits                                      stripe.Counter // every core hits: striped (internal/stripe)
	misses, stale, evictions, early, rejected atomic.Int64
	loads                                     atomic.Int64
}

type instruments struct {
	loadErrors   metric.Int64Counter
	loadDuration metric.Float64Histogram
	reg          metric.Registration

	attrs   metric.MeasurementOption
	errAttr map[string]metric.MeasurementOption
}

var errorTypes = []string{"panic", "timeout", "canceled", "not_found", "error"}

func (a *Aside[K, V]) initMetrics(mp metric.MeterProvider) error {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	var kv []attribute.KeyValue
	if a.opts.Name != "" {
		kv = append(kv, attribute.String("ladder.cache.name", a.opts.Name))
	}
	in := &a.inst
	in.attrs = metric.WithAttributeSet(attribute.NewSet(kv...))
	in.errAttr = make(map[string]metric.MeasurementOption, len(errorTypes))
	for _, t := range errorTypes {
		in.errAttr[t] = metric.WithAttributeSet(attribute.NewSet(append(kv[:len(kv):len(kv)], attribute.String("error.type", t))...))
	}
	var err error
	ctr := func(name, desc, unit string) metric.Int64ObservableCounter {
		c, e := m.Int64ObservableCounter(name, metric.WithDescription(desc), metric.WithUnit(unit))
		err = errors.Join(err, e)
		return c
	}
	hits := ctr("ladder.cache.hits", "Gets answered from the cache with a fresh entry.", "{request}")
	misses := ctr("ladder.cache.misses", "Gets that had to wait for a load.", "{request}")
	stale := ctr("ladder.cache.stale_served", "Gets answered with an expired entry (stale-while-revalidate or stale-if-error).", "{request}")
	evictions := ctr("ladder.cache.evictions", "Entries the store evicted to make room.", "{entry}")
	early := ctr("ladder.cache.early_refreshes", "Background reloads started before expiry (XFetch or refresh-ahead) or while serving stale.", "{load}")
	rejected := ctr("ladder.cache.rejected", "Values not stored because their cost exceeded the store's MaxCost.", "{entry}")
	// Loads are counted by an atomic too: a synchronous Add costs a few
	// hundred ns with the SDK, the price of a whole fast load.
	loads := ctr("ladder.cache.loads", "Loader calls.", "{load}")
	in.loadErrors, _ = m.Int64Counter("ladder.cache.load.errors", metric.WithDescription("Loader calls that failed, by error.type."), metric.WithUnit("{load}"))
	in.loadDuration, _ = m.Float64Histogram("ladder.cache.load.duration", metric.WithDescription("Loader call duration."), metric.WithUnit("s"))
	if err != nil {
		return err
	}
	c, attrs := a.c, in.attrs // not a: an unclosed Aside must stay collectable
	in.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(hits, c.hits.Load(), attrs)
		for _, p := range []struct {
			i metric.Int64ObservableCounter
			v *atomic.Int64
		}{{misses, &c.misses}, {stale, &c.stale}, {evictions, &c.evictions}, {early, &c.early}, {rejected, &c.rejected}, {loads, &c.loads}} {
			o.ObserveInt64(p.i, p.v.Load(), attrs)
		}
		return nil
	}, hits, misses, stale, evictions, early, rejected, loads)
	return err
}

func (a *Aside[K, V]) recordLoad(ctx context.Context, d time.Duration, err error) {
	a.c.loads.Add(1)
	a.inst.loadDuration.Record(ctx, d.Seconds(), a.inst.attrs)
	if err == nil {
		return
	}
	t := "error"
	switch {
	case errors.Is(err, ErrPanic):
		t = "panic"
	case errors.Is(err, context.DeadlineExceeded):
		t = "timeout"
	case errors.Is(err, context.Canceled):
		t = "canceled"
	case errors.Is(err, a.notFound):
		t = "not_found"
	}
	a.inst.loadErrors.Add(ctx, 1, a.inst.errAttr[t])
}
