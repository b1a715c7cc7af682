package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// A handler that takes over the connection (a WebSocket upgrade) commits its changes
// before it does: they are visible to other requests while it still holds the connection.
func TestHijackCommitsFirst(t *testing.T) {
	e := newEnv(t, session.Options{Insecure: true})
	_, tok := e.do("", put(t, "a", 1))
	hijacked, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := session.Put(session.From(r.Context()), "ws", "open"); err != nil {
			t.Error(err)
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			close(hijacked)
			return
		}
		defer conn.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		close(hijacked)
		<-release // the connection lives on
	})))
	defer srv.Close()
	defer close(release)
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: tok})
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-hijacked
	if v, err := get[string](t, e, tok, "ws"); v != "open" || err != nil {
		t.Fatalf("ws = %q, %v while the hijacked connection is open; want \"open\"", v, err)
	}
}
