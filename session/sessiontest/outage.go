package sessiontest

import (
	"net/http"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// RunOutage checks a store's behaviour across an outage of its backend: a request with a
// session gets a clear error (the test server answers 503 for session.ErrStore) for reads
// and writes, the client keeps its cookie, and once restore has run the session is intact.
// store should use short client timeouts so that the outage is noticed quickly.
func RunOutage(t *testing.T, store session.Store, breakBackend, restore func()) {
	web := NewServer(t, store)
	c := &Client{}
	do := func(path string) (int, string) {
		t.Helper()
		status, body, err := c.Do(t.Context(), web.URL, path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return status, body
	}
	if s, body := do(put("cart", "3")); s != http.StatusOK {
		t.Fatalf("put: %d %s", s, body)
	}
	token := c.Cookie()
	breakBackend()
	for _, path := range []string{get("cart"), put("x", "1")} {
		if s, _ := do(path); s != http.StatusServiceUnavailable {
			t.Fatalf("%s during the outage: %d, want 503", path, s)
		}
	}
	if c.Cookie() != token {
		t.Fatal("the outage changed the client's cookie")
	}
	restore()
	var status int
	var body string
	for range 50 { // bounded: the pool redials on the next call
		if status, body = do(get("cart")); status == http.StatusOK {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != http.StatusOK || body != "3" {
		t.Fatalf("after recovery: %d %q, want 200 \"3\"", status, body)
	}
}
