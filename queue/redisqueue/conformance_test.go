package redisqueue_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/queuetest"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// pair returns two Backends on separate clients sharing one namespace, as two
// processes sharing the server would have them.
func pair(t *testing.T, newClient func(t *testing.T) redis.UniversalClient) (a, b queue.Backend) {
	ca, cb := newClient(t), newClient(t)
	prefix := testPrefix(t, ca)
	ba, err := redisqueue.New(ca, redisqueue.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	bb, err := redisqueue.New(cb, redisqueue.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return ba, bb
}

// The Redis backend keeps every promise of queue.Backend on one server.
func TestConformanceSingleServer(t *testing.T) {
	t.Parallel()
	s := testenv.Redis(t)
	queuetest.Run(t, func(t *testing.T) (a, b queue.Backend) {
		return pair(t, func(t *testing.T) redis.UniversalClient {
			c := redis.NewClient(&redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true})
			t.Cleanup(func() { _ = c.Close() })
			return c
		})
	}, queuetest.Options{})
}

// ... on a Redis Cluster of three masters: each queue's keys share one hash
// tag, so every script runs on the one master that owns the queue's slot.
func TestConformanceCluster(t *testing.T) {
	t.Parallel()
	env := testenv.RedisCluster(t)
	queuetest.Run(t, func(t *testing.T) (a, b queue.Backend) {
		return pair(t, func(t *testing.T) redis.UniversalClient {
			c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: env.Addrs, ContextTimeoutEnabled: true})
			t.Cleanup(func() { _ = c.Close() })
			return c
		})
	}, queuetest.Options{})
}

// ... through Sentinel, with failover clients (the failover itself is
// failover_test.go's).
func TestConformanceSentinel(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	queuetest.Run(t, func(t *testing.T) (a, b queue.Backend) {
		return pair(t, func(t *testing.T) redis.UniversalClient {
			c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: testenv.SentinelMaster,
				SentinelAddrs: []string{s.Addr}, ContextTimeoutEnabled: true})
			t.Cleanup(func() { _ = c.Close() })
			return c
		})
	}, queuetest.Options{})
}
