package health

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/health"

// Attribute keys used on every instrument of this package.
const (
	attrCheck   = attribute.Key("ladder.health.check")
	attrProbe   = attribute.Key("ladder.health.probe")
	attrBreaker = attribute.Key("ladder.health.breaker")
	attrStatus  = attribute.Key("ladder.health.status")
	attrOutcome = attribute.Key("ladder.health.outcome")
	attrState   = attribute.Key("ladder.health.breaker.state")
)

func meter(mp metric.MeterProvider) metric.Meter {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return mp.Meter(scope)
}

// outcomeSets are the precomputed attribute sets of one named thing, one per
// outcome, so recording allocates nothing.
type outcomeSets struct {
	ok, fail metric.MeasurementOption
}

func newOutcomeSets(key attribute.Key, name string) outcomeSets {
	return outcomeSets{
		ok:   metric.WithAttributeSet(attribute.NewSet(key.String(name), attrOutcome.String("success"))),
		fail: metric.WithAttributeSet(attribute.NewSet(key.String(name), attrOutcome.String("failure"))),
	}
}

func (s outcomeSets) pick(err error) metric.MeasurementOption {
	if err != nil {
		return s.fail
	}
	return s.ok
}

// otelHandle reports errors creating instruments through OTel's global error
// handler; an instrument that could not be created is a no-op one.
func otelHandle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}
