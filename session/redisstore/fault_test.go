package redisstore_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session/redisstore"
	"github.com/ladder-go/ladder/session/sessiontest"
)

// A Redis outage gives the handler a clear error (503 from the test server, which maps
// session.ErrStore) for a request with a session, and service resumes with the session
// intact once Redis is back.
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
	web := sessiontest.NewServer(t, store)
	c := &sessiontest.Client{}
	do := func(path string) int {
		t.Helper()
		status, _, err := c.Do(t.Context(), web.URL, path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return status
	}
	if s := do("/put?k=cart&v=3"); s != http.StatusOK {
		t.Fatalf("put: %d", s)
	}
	token := c.Cookie()
	proxy.Break()
	for _, path := range []string{"/get?k=cart", "/put?k=x&v=1"} {
		if s := do(path); s != http.StatusServiceUnavailable {
			t.Fatalf("%s during outage: %d, want 503", path, s)
		}
	}
	if c.Cookie() != token {
		t.Fatal("the outage changed the client's cookie")
	}
	proxy.Restore()
	var status int
	for range 20 { // the pool redials on the next command
		if status = do("/get?k=cart"); status == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != http.StatusOK {
		t.Fatalf("after recovery: %d", status)
	}
	_, body, _ := c.Do(t.Context(), web.URL, "/get?k=cart")
	if body != "3" {
		t.Fatalf("cart after recovery = %q, want 3", body)
	}
}
