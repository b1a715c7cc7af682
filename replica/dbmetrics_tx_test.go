package replica_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

// A transaction's statements are db.client.operation.duration points like
// the router's own: without them a service writing in transactions would
// look read-only to the advisor's db.read_share.
func TestDBClientMetricsCountTransactionStatements(t *testing.T) {
	reader := metric.NewManualReader()
	mp := metric.NewMeterProvider(metric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	pair, err := replicatest.New(replicatest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pair.Close()
	r := newRouterOn(t, pair.Primary(), pair.Replica(), replica.Options{Positions: pair, MeterProvider: mp})
	ctx := context.Background()
	if _, err := r.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := r.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t (x) VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
	rows, err := tx.QueryContext(ctx, "SELECT x FROM t")
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	byOp := map[string]uint64{}
	for _, dp := range collectRM(t, reader)["db.client.operation.duration"].Data.(metricdata.Histogram[float64]).DataPoints {
		byOp[str(dp.Attributes, "db.operation.name")+"/"+str(dp.Attributes, "ladder.replica.role")] += dp.Count
	}
	if byOp["INSERT/primary"] != 1 || byOp["SELECT/primary"] != 2 {
		t.Errorf("points by operation %v, want the transaction's INSERT and two SELECTs on the primary", byOp)
	}
}
