package pgqueue_test

import (
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

// conformance runs queuetest.Run on one database reached at dsn (each
// subtest on queues of its own), with two instances on separate pools.
func conformance(t *testing.T, dsn string, opts pgqueue.Options) {
	var once sync.Once
	var pools [2]*pgxpool.Pool
	queuetest.Run(t, func(st *testing.T) (queue.Backend, queue.Backend) {
		once.Do(func() {
			pools[0], pools[1] = openPool(t, dsn, 0), openPool(t, dsn, 0)
			if err := pgqueue.Migrate(ctxT(t), pools[0], opts); err != nil {
				t.Fatal(err)
			}
		})
		return backendOn(st, pools[0], opts), backendOn(st, pools[1], opts)
	}, queuetest.Options{})
}

func TestConformance(t *testing.T) {
	conformance(t, testenv.Postgres(t).DSN, pgqueue.Options{})
}

// Through PgBouncer in transaction mode: no statement cache (exec mode),
// and LISTEN's notifications never arrive, so Wait must find out and poll.
func TestConformanceThroughPgBouncer(t *testing.T) {
	pg := testenv.Postgres(t)
	through := testenv.PgBouncer(t, pg)
	conformance(t, through.DSN+"&default_query_exec_mode=exec", pgqueue.Options{})
}
