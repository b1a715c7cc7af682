package sessiontest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// Login creates a session in m's store holding values and bound to user (if not ""),
// and returns its cookie: add it to a request served by m.Handler(yourHandler) to test a
// handler as a logged-in user.
func Login(t testing.TB, m *session.Manager, user string, values map[string]any) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		if err := s.RenewID(r.Context()); err != nil {
			t.Fatalf("sessiontest: RenewID: %v", err)
		}
		if user != "" {
			if err := s.SetUser(user); err != nil {
				t.Fatalf("sessiontest: SetUser: %v", err)
			}
		}
		for k, v := range values {
			if err := session.Put(s, k, v); err != nil {
				t.Fatalf("sessiontest: Put %q: %v", k, err)
			}
		}
		if err := s.Commit(r.Context()); err != nil {
			t.Fatalf("sessiontest: Commit: %v", err)
		}
	})).ServeHTTP(rec, httptest.NewRequest("GET", "https://example.com/", nil))
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sessiontest: no session cookie (status %d)", rec.Code)
	return nil
}
