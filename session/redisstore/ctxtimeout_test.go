package redisstore_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/session/redisstore"
)

// session.Options.StoreTimeout bounds store calls through their ctx, which go-redis
// enforces only with ContextTimeoutEnabled: with a default client and Redis stopped
// (SIGSTOP), a Load under a 300 ms ctx returned after 5.0 s (301 ms with the option). New
// says so, in the default logger, for a client that ignores ctx deadlines.
func TestClientIgnoringContextDeadlinesWarns(t *testing.T) {
	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(old)
	for _, c := range []struct {
		opts *redis.Options
		warn bool
	}{
		{&redis.Options{Addr: "127.0.0.1:1"}, true},
		{&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}, false},
	} {
		logs.Reset()
		client := redis.NewClient(c.opts)
		if _, err := redisstore.New(client, redisstore.Options{}); err != nil {
			t.Fatal(err)
		}
		client.Close()
		if got := strings.Contains(logs.String(), "ContextTimeoutEnabled"); got != c.warn {
			t.Errorf("ContextTimeoutEnabled %v: warned %v, want %v; log: %q", c.opts.ContextTimeoutEnabled, got, c.warn, logs.String())
		}
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	defer cc.Close()
	logs.Reset()
	if _, err := redisstore.New(cc, redisstore.Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "ContextTimeoutEnabled") {
		t.Errorf("a ClusterClient ignoring ctx deadlines: no warning; log: %q", logs.String())
	}
}
