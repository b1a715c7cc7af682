package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is a share of the redis-server started by scripts/test: its
// address and a key prefix that belongs to one test. Keys under Prefix are
// deleted when the test ends.
type RedisServer struct {
	Addr   string // host:port
	Prefix string // unique to this test, ends in ':'
}

// Redis returns the shared redis-server, after checking that it answers.
// It skips or fails t (see package doc) when LADDER_REDIS_ADDR is unset.
func Redis(t testing.TB) RedisServer {
	t.Helper()
	addr := lookup(t, EnvRedis)
	s := RedisServer{Addr: addr, Prefix: uniqueName("ladder-test:") + ":"}
	c := redis.NewClient(&redis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("testenv: redis at %s (%s) does not answer: %v", addr, EnvRedis, err)
	}
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		deletePrefix(ctx, t, c, s.Prefix)
	})
	return s
}

// Client returns a go-redis client for the server, closed when the test ends.
func (s RedisServer) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// deletePrefix removes every key under prefix. Hash tags in the pattern are
// matched literally, so "{session:…}" keys under the prefix go too.
func deletePrefix(ctx context.Context, t testing.TB, c *redis.Client, prefix string) {
	iter := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("testenv: scanning redis keys under %q: %v", prefix, err)
		return
	}
	// One key per DEL, pipelined: a cluster node refuses a multi-key DEL
	// across slots (CROSSSLOT) even when it owns them all.
	for len(keys) > 0 {
		n := min(len(keys), 500)
		pipe := c.Pipeline()
		for _, k := range keys[:n] {
			pipe.Del(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Logf("testenv: deleting redis keys under %q: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

// escapeGlob escapes Redis glob metacharacters.
func escapeGlob(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
