package replica_test

import (
	"context"
	"testing"

	"github.com/ladder-go/ladder/replica"
)

// BenchmarkQueryRow is a read through the router and straight on the
// replica's *sql.DB, on the in-memory fake: the routing cost (context
// lookup, pick, counters) beside database/sql's own. The router adds no
// allocation.
func BenchmarkQueryRow(b *testing.B) {
	c := newCluster(b, "r1", "r2")
	r, err := replica.New(c.db("primary"), c.replicas("r1", "r2"), replica.Options{Positions: fakePositions{}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
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
