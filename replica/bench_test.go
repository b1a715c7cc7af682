package replica_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric"

	"github.com/ladder-go/ladder/replica"
)

// BenchmarkQueryRow is a read through the router and straight on the
// replica's *sql.DB, on the in-memory fake: the routing cost (context
// lookup, pick, counters) beside database/sql's own. The router adds no
// allocation, with telemetry off (noop provider) or on (the OTel SDK).
func BenchmarkQueryRow(b *testing.B) {
	c := newCluster(b, "r1", "r2")
	r, err := replica.New(c.db("primary"), c.replicas("r1", "r2"), replica.Options{Positions: fakePositions{}, Logger: quiet,
		MeterProvider: noop.NewMeterProvider()})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	sdk := metric.NewMeterProvider(metric.WithReader(metric.NewManualReader()))
	defer sdk.Shutdown(context.Background())
	rt, err := replica.New(c.db("primary"), c.replicas("r1", "r2"), replica.Options{Positions: fakePositions{}, Logger: quiet,
		MeterProvider: sdk})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	ctx := context.Background()
	sctx, _ := session()
	for _, bc := range []struct {
		name string
		ctx  context.Context
		row  func(ctx context.Context) error
	}{
		{"bare", ctx, func(ctx context.Context) error { return c.db("r1").QueryRowContext(ctx, "POS").Scan(new(int64)) }},
		{"router", ctx, func(ctx context.Context) error { return r.QueryRowContext(ctx, "POS").Scan(new(int64)) }},
		{"router-session", sctx, func(ctx context.Context) error { return r.QueryRowContext(ctx, "POS").Scan(new(int64)) }},
		{"router-telemetry-on", ctx, func(ctx context.Context) error { return rt.QueryRowContext(ctx, "POS").Scan(new(int64)) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.row(bc.ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
