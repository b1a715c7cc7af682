package session_test

import (
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/ladder-go/ladder/session"
)

// Keys lists what the request sees: loaded keys, minus its removals and pops, plus its
// puts, sorted; a session that failed to load or was renewed away lists nothing.
func TestKeys(t *testing.T) {
	e := newEnv(t, session.Options{})
	keys := func(s *session.Session) []string {
		t.Helper()
		k, err := s.Keys()
		if err != nil {
			t.Fatalf("Keys: %v", err)
		}
		return k
	}
	_, tok := e.do("", func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if k := keys(s); len(k) != 0 {
			t.Errorf("Keys of a new session = %q, want none", k)
		}
		for _, k := range []string{"b", "flash", "a", "c"} {
			if err := session.Put(s, k, 1); err != nil {
				t.Fatal(err)
			}
		}
		if k := keys(s); !slices.Equal(k, []string{"a", "b", "c", "flash"}) {
			t.Errorf("Keys after puts = %q", k)
		}
	})
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		s.Remove("b")
		if _, err := session.Pop[int](r.Context(), s, "flash"); err != nil {
			t.Fatal(err)
		}
		if err := session.Put(s, "a", 2); err != nil { // replaced: listed once
			t.Fatal(err)
		}
		if err := session.Put(s, "0", 0); err != nil {
			t.Fatal(err)
		}
		if k := keys(s); !slices.Equal(k, []string{"0", "a", "c"}) {
			t.Errorf("Keys after remove, pop and puts = %q", k)
		}
	})
	e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if k := keys(s); !slices.Equal(k, []string{"0", "a", "c"}) {
			t.Errorf("Keys as committed = %q", k)
		}
	})
	_, renewed := e.do(tok, login(t, "alice"))
	if renewed == tok {
		t.Fatal("login kept the token")
	}
	e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if k, err := s.Keys(); !errors.Is(err, session.ErrRenewed) || k != nil {
			t.Errorf("Keys with the pre-login token = %q, %v; want ErrRenewed", k, err)
		}
	})
	var nilSession *session.Session
	if _, err := nilSession.Keys(); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("Keys of a nil session: %v", err)
	}
}
