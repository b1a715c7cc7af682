package assets

import (
	"context"
	"sync"

	"github.com/ladder-go/ladder/internal/stripe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/cache/assets"

// Results of a request, the values of attribute ladder.assets.result.
const (
	resultHashed       = iota // 200/206 for a hashed name
	resultLogical             // 200/206 for a logical name
	resultNotModified         // 304
	resultNotFound            // 404
	resultMethod              // 405
	resultPrecondition        // 412
	resultRange               // 416
	nResults
)

var resultNames = [nResults]string{"hashed", "logical", "not_modified", "not_found", "method_not_allowed",
	"precondition_failed", "range_not_satisfiable"}

// metrics counts with atomics on the request path and exports them through
// observable counters read at collection: a synchronous SDK Add would cost
// more than serving a small asset from memory. Every core serves assets,
// so the counters are striped (internal/stripe): no line is shared.
type metrics struct {
	requests  [nResults]stripe.Counter
	bytes     stripe.Counter
	reg       metric.Registration
	closeOnce sync.Once
}

func (m *metrics) count(result int, n int64) {
	m.requests[result].Add(1)
	if n > 0 {
		m.bytes.Add(n)
	}
}

func (m *metrics) init(mp metric.MeterProvider) error {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(scope)
	requests, err := meter.Int64ObservableCounter("ladder.assets.requests",
		metric.WithDescription("Asset requests by result (hashed, logical, not_modified, not_found, method_not_allowed, precondition_failed, range_not_satisfiable)."),
		metric.WithUnit("{request}"))
	if err != nil {
		return err
	}
	sent, err := meter.Int64ObservableCounter("ladder.assets.sent",
		metric.WithDescription("Asset body bytes sent, after content coding (not error texts)."),
		metric.WithUnit("By"))
	if err != nil {
		return err
	}
	var sets [nResults]metric.ObserveOption
	for i, n := range resultNames {
		sets[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("ladder.assets.result", n)))
	}
	m.reg, err = meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for i := range m.requests {
			o.ObserveInt64(requests, m.requests[i].Load(), sets[i])
		}
		o.ObserveInt64(sent, m.bytes.Load())
		return nil
	}, requests, sent)
	return err
}

// Close unregisters the metrics callback, for a program that replaces its
// Assets (a reload) while keeping its MeterProvider. Serving goes on.
// It is idempotent.
func (a *Assets) Close() error {
	var err error
	a.m.closeOnce.Do(func() {
		if a.m.reg != nil {
			err = a.m.reg.Unregister()
		}
	})
	return err
}
