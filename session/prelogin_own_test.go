package session_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// A request carrying a pre-login identifier (ErrRenewed) may still log in or out on its
// own: RenewID starts a session of its own that takes Put and SetUser and gets its cookie,
// and Destroy deletes the browser's cookie. Neither touches the logged-in session.
func TestPreLoginRequestOwnLoginAndLogout(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, anon := e.do("", put(t, "cart", 2))
	_, authed := e.do(anon, login(t, "alice"))

	// Its own login: a new session, not the renewed one, and the response names it.
	_, own := e.do(anon, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := s.RenewID(r.Context()); err != nil {
			t.Errorf("RenewID with the pre-login token: %v", err)
		}
		if err := s.SetUser("bob"); err != nil {
			t.Errorf("SetUser after its own RenewID: %v", err)
		}
		if err := session.Put(s, "mine", 1); err != nil {
			t.Errorf("Put after its own RenewID: %v", err)
		}
		if err := s.Err(); err != nil {
			t.Errorf("Err after its own RenewID: %v", err)
		}
	})
	if own == anon || own == authed || own == "" {
		t.Fatalf("cookie after a pre-login request's own login = %q (pre-login %q, logged in %q)", own, anon, authed)
	}
	e.do(own, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if s.User() != "bob" {
			t.Errorf("User of the pre-login request's own login = %q, want bob", s.User())
		}
		if _, err := session.Get[int](s, "cart"); !errors.Is(err, session.ErrNoValue) {
			t.Errorf("its own login sees the renewed session's cart: %v (fixation)", err)
		}
	})

	// Its own logout: the cookie is deleted; the logged-in session is left as it is.
	resp, after := e.do(anon, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := s.Destroy(r.Context()); err != nil {
			t.Errorf("Destroy with the pre-login token: %v", err)
		}
	})
	if after != "" || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("a pre-login request's logout did not delete the cookie: %v", resp.Cookies())
	}
	if v, err := get[int](t, e, authed, "cart"); v != 2 || err != nil {
		t.Fatalf("logged-in session after a pre-login request's logout: cart %v, %v", v, err)
	}
}
