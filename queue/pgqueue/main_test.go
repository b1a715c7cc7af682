package pgqueue_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func TestMain(m *testing.M) {
	if os.Getenv(drillWorkerEnv) != "" {
		// The crash drill re-executed this binary as a worker process.
		os.Exit(runDrillWorker())
	}
	goleak.VerifyTestMain(m)
}

// openPool opens a pool on dsn (closed when the test ends); through
// PgBouncer, with no statement cache (exec mode).
func openPool(t testing.TB, dsn string, maxConns int) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newBackend returns a Backend on a fresh database with its tables.
func newBackend(t testing.TB, opts pgqueue.Options) (*pgqueue.Backend, *pgxpool.Pool) {
	t.Helper()
	pg := testenv.Postgres(t)
	pool := openPool(t, pg.DSN, 0)
	return backendOn(t, pool, opts), pool
}

func backendOn(t testing.TB, pool *pgxpool.Pool, opts pgqueue.Options) *pgqueue.Backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pgqueue.Migrate(ctx, pool, opts); err != nil {
		t.Fatal(err)
	}
	b, err := pgqueue.New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
