package observe

import (
	"context"
	"math"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"io"
	"log/slog"
	"time"
)

// time0 is an arbitrary fixed start for tests driving Now by hand.
var time0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type nopCollector struct{}

func (nopCollector) Collect(context.Context, *metricdata.ResourceMetrics) error { return nil }

func nan() float64 { return math.NaN() }
