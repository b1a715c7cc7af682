package pgreplica_test

import (
	"context"
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

// BenchmarkPositions measures one round trip of each call against the
// shared primary and standby on loopback, beside a bare SELECT 1 on the
// same connection: what a causal read adds to a query.
func BenchmarkPositions(b *testing.B) {
	pair := testenv.Replica(b)
	primary, standby := pair.Primary.DB(b), pair.Replica.DB(b)
	primary.SetMaxOpenConns(1)
	standby.SetMaxOpenConns(1)
	ctx := context.Background()
	pos := pgreplica.Positions{}
	p, err := pos.WritePosition(ctx, primary)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("select1-standby", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			if err := standby.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Reached-standby", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pos.Reached(ctx, standby, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("WritePosition-primary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pos.WritePosition(ctx, primary); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("State-standby", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pos.State(ctx, standby); err != nil {
				b.Fatal(err)
			}
		}
	})
}
