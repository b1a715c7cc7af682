package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvRedisCluster lists the seed addresses (comma-separated host:port) of
// the three-master Redis Cluster scripts/test starts.
const EnvRedisCluster = "LADDER_REDIS_CLUSTER"

// RedisClusterEnv is a share of the Redis Cluster started by scripts/test:
// its seed addresses and a key prefix that belongs to one test. Keys under
// Prefix are deleted from every master when the test ends.
type RedisClusterEnv struct {
	Addrs  []string
	Prefix string // unique to this test, ends in ':'
}

// RedisCluster returns the shared Redis Cluster, after checking that it
// answers and serves every slot. It skips or fails t (see package doc) when
// LADDER_REDIS_CLUSTER is unset.
func RedisCluster(t testing.TB) RedisClusterEnv {
	t.Helper()
	env := RedisClusterEnv{Addrs: strings.Split(lookup(t, EnvRedisCluster), ","), Prefix: uniqueName("ladder-test:") + ":"}
	c := env.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil || !strings.Contains(info, "cluster_state:ok") {
		t.Fatalf("testenv: the Redis Cluster at %v (%s) is not serving: %v %q", env.Addrs, EnvRedisCluster, err, info)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			deletePrefix(ctx, t, m, env.Prefix)
			return nil
		})
		if err != nil {
			t.Logf("testenv: cleaning the Redis Cluster: %v", err)
		}
	})
	return env
}

// Client returns a go-redis cluster client, closed when the test ends.
func (e RedisClusterEnv) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: e.Addrs})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
