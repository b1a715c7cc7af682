package redisqueue_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue/queuetest"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// A redis-server frozen (SIGSTOP: connections open, no answer) under a
// running Worker, with go-redis's default client options (ContextTimeoutEnabled
// false): Run's shutdown still returns in bounded time, no run of a job
// overlaps another run of it whose ctx is still live, and once the server
// thaws every job runs (0 lost).
func TestFrozenServerUnderWorker(t *testing.T) {
	srv := testenv.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr}) // the defaults a user has
	t.Cleanup(func() { _ = c.Close() })
	b, err := redisqueue.New(c, redisqueue.Options{Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	queuetest.FrozenServer(t, b, srv.Freeze, srv.Thaw, quietLog)
}
