package session_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
)

func login(t *testing.T, user string) func(http.ResponseWriter, *http.Request, *session.Session) {
	return func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := s.RenewID(r.Context()); err != nil {
			t.Errorf("RenewID: %v", err)
		}
		if err := s.SetUser(user); err != nil {
			t.Errorf("SetUser: %v", err)
		}
	}
}

func TestRenewID(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, anon := e.do("", put(t, "cart", 2))
	_, authed := e.do(anon, login(t, "alice"))
	if authed == anon || authed == "" {
		t.Fatalf("token after RenewID = %q (before %q)", authed, anon)
	}
	if v, err := get[int](t, e, authed, "cart"); v != 2 || err != nil {
		t.Fatalf("cart after renewal = %v, %v", v, err)
	}
	// The pre-login token loads nothing: neither the logged-in session (fixation) nor a
	// new one whose cookie would replace the login's.
	if _, err := get[int](t, e, anon, "cart"); !errors.Is(err, session.ErrRenewed) {
		t.Fatalf("old token: %v, want ErrRenewed", err)
	}
	e.do(authed, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if s.User() != "alice" {
			t.Errorf("User = %q", s.User())
		}
	})
	// Login on a fresh request without any session yet.
	_, tok := e.do("", login(t, "bob"))
	if tok == "" {
		t.Fatal("login without a prior session set no cookie")
	}
}

// A slow request that loaded the session before a logout commits afterwards: its write is
// dropped and the session stays destroyed (scs writes it back).
func TestLogoutRaceNoResurrection(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", login(t, "alice"))
	loaded, loggedOut := make(chan struct{}), make(chan struct{})
	done := make(chan string)
	go func() {
		_, after := e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			close(loaded)
			<-loggedOut
			put(t, "late", 1)(w, r, s)
		})
		done <- after
	}()
	<-loaded
	resp, after := e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		if err := s.Destroy(r.Context()); err != nil {
			t.Errorf("Destroy: %v", err)
		}
	})
	if after != "" || resp.Cookies()[0].MaxAge != -1 {
		t.Fatalf("logout did not delete the cookie: %v", resp.Cookies())
	}
	close(loggedOut)
	// The slow response leaves the cookie alone: the logout's response deleted it, and
	// a deletion from here could log out a newer login.
	if slow := <-done; slow != tok {
		t.Errorf("slow request after logout changed the cookie to %q", slow)
	}
	if _, err := get[int](t, e, tok, "late"); !errors.Is(err, session.ErrNoValue) {
		t.Fatalf("session resurrected: %v", err)
	}
	e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if s.User() != "" {
			t.Errorf("logged-out token still carries user %q", s.User())
		}
	})
}

// A request that overlaps a login (RenewID) keeps its write: it reaches the new session.
func TestRenewRaceKeepsWrite(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "a", 1))
	loaded, renewed := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			close(loaded)
			<-renewed
			put(t, "b", 2)(w, r, s)
		})
	}()
	<-loaded
	_, newTok := e.do(tok, login(t, "alice"))
	close(renewed)
	<-done
	if v, err := get[int](t, e, newTok, "b"); v != 2 || err != nil {
		t.Fatalf("write that overlapped the renewal: %v, %v", v, err)
	}
}

func TestDestroyAll(t *testing.T) {
	e := newEnv(t, session.Options{})
	var alice []string
	for range 3 {
		_, tok := e.do("", login(t, "alice"))
		alice = append(alice, tok)
	}
	_, bob := e.do("", login(t, "bob"))
	n, err := e.m.DestroyAll(t.Context(), "alice")
	if err != nil || n != 3 {
		t.Fatalf("DestroyAll = %d, %v; want 3", n, err)
	}
	for _, tok := range alice {
		e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
			if s.User() != "" {
				t.Error("alice still logged in")
			}
		})
	}
	e.do(bob, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if s.User() != "bob" {
			t.Error("bob logged out")
		}
	})
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		e := newEnv(t, session.Options{IdleTimeout: 10 * time.Minute, Lifetime: time.Hour, TouchInterval: time.Minute})
		_, tok := e.do("", put(t, "k", 1))
		applies := e.store.applies.Load()
		// Requests within the touch interval write nothing.
		time.Sleep(30 * time.Second)
		e.do(tok, nop)
		if got := e.store.applies.Load() - applies; got != 0 {
			t.Fatalf("%d writes within the touch interval", got)
		}
		// Keep the session active past the idle timeout: one refresh per touch interval.
		for range 10 {
			time.Sleep(5 * time.Minute)
			if _, err := get[int](t, e, tok, "k"); err != nil {
				t.Fatalf("active session lost: %v", err)
			}
		}
		if got := e.store.applies.Load() - applies; got != 10 {
			t.Fatalf("%d idle refreshes, want 10", got)
		}
		// Idle for longer than IdleTimeout: gone.
		time.Sleep(11 * time.Minute)
		if _, err := get[int](t, e, tok, "k"); !errors.Is(err, session.ErrNoValue) {
			t.Fatalf("idle session survived: %v", err)
		}
		// Absolute lifetime ends even an active session.
		_, tok = e.do("", put(t, "k", 1))
		for range 12 {
			time.Sleep(5 * time.Minute)
			_, _ = get[int](t, e, tok, "k")
		}
		if _, err := get[int](t, e, tok, "k"); !errors.Is(err, session.ErrNoValue) {
			t.Fatalf("session outlived its absolute lifetime: %v", err)
		}
	})
}

func TestPersistentCookie(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		e := newEnv(t, session.Options{Persistent: true, Lifetime: time.Hour})
		resp, _ := e.do("", put(t, "k", 1))
		if c := resp.Cookies()[0]; c.MaxAge != 3600 {
			t.Fatalf("MaxAge = %d, want 3600", c.MaxAge)
		}
	})
}

// A request that renews the identifier after a logout elsewhere must not carry the user
// into a new session.
func TestRenewAfterLogoutStaysLoggedOut(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", login(t, "alice"))
	loaded, loggedOut := make(chan struct{}), make(chan struct{})
	done := make(chan string)
	go func() {
		_, after := e.do(tok, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
			close(loaded)
			<-loggedOut
			if err := s.RenewID(r.Context()); err != nil {
				t.Errorf("RenewID: %v", err)
			}
			put(t, "k", 1)(w, r, s)
		})
		done <- after
	}()
	<-loaded
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) { _ = s.Destroy(r.Context()) })
	close(loggedOut)
	after := <-done
	if after == "" || after == tok {
		t.Fatalf("token after renewal = %q", after)
	}
	if u := userOf(t, e, after); u != "" {
		t.Fatalf("the renewed session is logged in as %q after a logout", u)
	}
	if v, err := get[int](t, e, after, "k"); v != 1 || err != nil {
		t.Fatalf("k = %v, %v", v, err)
	}
}
