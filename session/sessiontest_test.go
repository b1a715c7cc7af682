package session_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

func TestSessiontestLogin(t *testing.T) {
	st := newMemory(t)
	m, err := session.New(st, session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cookie := sessiontest.Login(t, m, "alice", map[string]any{"cart": 3})
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		n, err := session.Get[int](s, "cart")
		fmt.Fprint(w, s.User(), n, err)
	})).ServeHTTP(rec, req)
	if got := rec.Body.String(); got != "alice3 <nil>" {
		t.Fatalf("handler saw %q", got)
	}
}
