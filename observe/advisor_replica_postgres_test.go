package observe_test

import (
	"context"
	"database/sql"
	"log/slog"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/observe"
	"github.com/ladder-go/ladder/replica"
)

// The advisor's database rule fires from what a real replica.Router emits
// over PostgreSQL (a primary and its streaming replica): mostly SELECTs,
// and pools with every connection in use → "db-reads", with the numbers.
func TestAdvisorDBRuleFiresFromARealReplicaRouter(t *testing.T) {
	pair := testenv.Replica(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	const conns = 3
	primary, standby := pair.Primary.DB(t), pair.Replica.DB(t)
	for _, db := range []*sql.DB{primary, standby} {
		db.SetMaxOpenConns(conns)
	}
	r, err := replica.New(primary, []replica.Replica{{Name: "standby", DB: standby}},
		replica.Options{MeterProvider: mp, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	adv, err := observe.NewAdvisor(reader, observe.AdvisorOptions{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adv.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ExecContext(ctx, "CREATE TABLE t (k int PRIMARY KEY, v int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ExecContext(ctx, "INSERT INTO t VALUES (1, 10)"); err != nil {
		t.Fatal(err)
	}
	testenv.WaitReplay(t, ctx, primary, standby)
	for range 40 {
		var v int
		if err := r.QueryRowContext(ctx, "SELECT v FROM t WHERE k = $1", 1).Scan(&v); err != nil {
			t.Fatal(err)
		}
	}
	// Saturate both pools: every connection in use (the router's monitor
	// holds one of each for its probes).
	for _, db := range []*sql.DB{primary, standby} {
		for db.Stats().InUse < conns {
			hctx, hcancel := context.WithTimeout(ctx, 100*time.Millisecond)
			c, err := db.Conn(hctx)
			hcancel()
			if err != nil {
				if ctx.Err() != nil {
					t.Fatalf("could not take every connection: %v", err)
				}
				continue // the monitor took the last one meanwhile
			}
			defer c.Close()
		}
	}
	now = now.Add(10 * time.Second)
	rep, err := adv.Evaluate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Signals[observe.SigDBUsage]; u < 0.99 {
		t.Errorf("%s = %v, want 1 (every connection in use)", observe.SigDBUsage, u)
	}
	if s := rep.Signals[observe.SigDBReadShare]; s < 0.9 {
		t.Errorf("%s = %v, want ≥ 0.9 (40 SELECTs, 2 writes)", observe.SigDBReadShare, s)
	}
	if _, ok := rep.Signals[observe.SigDBP99]; !ok {
		t.Errorf("no %s from db.client.operation.duration", observe.SigDBP99)
	}
	fired := false
	for _, a := range rep.Advice {
		if a.Rule == "db-reads" {
			fired = true
			if len(a.Evidence) != 2 {
				t.Errorf("db-reads evidence %v, want the two numbers that triggered it", a.Evidence)
			}
		}
	}
	if !fired {
		t.Errorf("db-reads did not fire; signals %v, advice %v", rep.Signals, rep.Advice)
	}
}
