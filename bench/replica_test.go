package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

// BenchmarkReplicaPointSelect is one point select on the replica, through
// the router and through a bare *sql.DB on the same server: the router's
// overhead per query (target ≤ 1.05× the bare time). "ladder-select" reads
// with no session; "ladder-select-session" carries a session whose write
// the replica has replayed (causal wait: one position comparison, no wait).
func BenchmarkReplicaPointSelect(b *testing.B) {
	pdsn, rdsn := os.Getenv("LADDER_PG_PRIMARY"), os.Getenv("LADDER_PG_REPLICA")
	if pdsn == "" || rdsn == "" {
		b.Skip("LADDER_PG_PRIMARY or LADDER_PG_REPLICA not set: start PostgreSQL (scripts/bench does)")
	}
	primary, standby := openPG(b, pdsn), openPG(b, rdsn)
	table := fmt.Sprintf("ladder_bench_replica_%d", os.Getpid())
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE " + table + " (k int PRIMARY KEY, v text)",
		"INSERT INTO " + table + " SELECT g, md5(g::text) FROM generate_series(1, 1000) g",
	} {
		if _, err := primary.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() { _, _ = primary.ExecContext(context.Background(), "DROP TABLE "+table) })
	router, err := replica.New(primary, []replica.Replica{{Name: "standby", DB: standby}},
		replica.Options{Positions: pgreplica.Positions{}})
	if err != nil {
		b.Fatal(err)
	}
	defer router.Close()
	s := new(replica.Session)
	sctx := replica.NewContext(ctx, s)
	if _, err := router.ExecContext(sctx, "UPDATE "+table+" SET v = v WHERE k = 1"); err != nil {
		b.Fatal(err)
	}
	// Wait until the replica has the table and the session's write.
	for {
		var ok bool
		if ok, err = (pgreplica.Positions{}).Reached(ctx, standby, s.Position()); err != nil {
			b.Fatal(err)
		}
		if ok {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	query := "SELECT v FROM " + table + " WHERE k = $1"
	run := func(b *testing.B, row func(ctx context.Context, k int) *sql.Row, ctx context.Context) {
		var v string
		k := 0
		b.ReportAllocs()
		for b.Loop() {
			k = k%1000 + 1
			if err := row(ctx, k).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	}
	bare := func(ctx context.Context, k int) *sql.Row { return standby.QueryRowContext(ctx, query, k) }
	routed := func(ctx context.Context, k int) *sql.Row { return router.QueryRowContext(ctx, query, k) }
	b.Run("ladder-select", func(b *testing.B) { run(b, routed, ctx) })
	b.Run("sqldb-select", func(b *testing.B) { run(b, bare, ctx) })
	b.Run("ladder-select-session", func(b *testing.B) { run(b, routed, sctx) })
}

func openPG(b *testing.B, dsn string) *sql.DB {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxIdleConns(4)
	b.Cleanup(func() { _ = db.Close() })
	return db
}
