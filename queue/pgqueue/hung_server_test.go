package pgqueue_test

import (
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue/pgqueue"
	"github.com/ladder-go/ladder/queue/queuetest"
)

// A PostgreSQL primary frozen (SIGSTOP: connections open, no answer) under
// a running Worker, with pgxpool's default options: Run's shutdown still returns in bounded time, no run of a job
// overlaps another run of it whose ctx is still live, and once the server
// thaws every job runs (0 lost).
func TestFrozenServerUnderWorker(t *testing.T) {
	pair := testenv.StartPGPair(t)
	srv := pair.Primary
	pool := openPool(t, pair.Database(t).Primary.DSN, 0)
	b := backendOn(t, pool, pgqueue.Options{Logger: quiet})
	queuetest.FrozenServer(t, b, srv.Freeze, srv.Thaw, quiet)
}
