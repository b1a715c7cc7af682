package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session/redisstore"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// A Redis outage (a partition between the web server and Redis) gives the handler a clear
// error, and service resumes with the session intact once Redis is reachable again.
func TestOutageAndRecovery(t *testing.T) {
	srv := testenv.Redis(t)
	proxy := testenv.Proxy(t, srv.Addr)
	client := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1,
		DialTimeout: 250 * time.Millisecond, ReadTimeout: 250 * time.Millisecond, WriteTimeout: 250 * time.Millisecond})
	t.Cleanup(func() { _ = client.Close() })
	store, err := redisstore.New(client, redisstore.Options{Prefix: srv.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	sessiontest.RunOutage(t, store, proxy.Break, proxy.Restore)
}
