package pgqueue_test

import (
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

// conformance runs queuetest.Run on one database reached at dsn (each
// subtest on queues of its own), with two instances on separate pools.
func conformance(t *testing.T, dsn string, opts pgqueue.Options) {
	a, b := openPool(t, dsn, 0), openPool(t, dsn, 0)
	if err := pgqueue.Migrate(ctxT(t), a, opts); err != nil {
		t.Fatal(err)
	}
	queuetest.Run(t, func(st *testing.T) (queue.Backend, queue.Backend) {
		return backendOn(st, a, opts), backendOn(st, b, opts)
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
