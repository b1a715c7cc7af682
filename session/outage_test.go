package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
)

func TestStoreOutageFailsClosed(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", login(t, "alice"))
	e.store.fail.Store(true)
	resp, after := e.do(tok, func(w http.ResponseWriter, _ *http.Request, s *session.Session) {
		if !errors.Is(s.Err(), session.ErrStore) || !errors.Is(s.Err(), errOutage) {
			t.Errorf("Err = %v, want ErrStore wrapping the outage", s.Err())
		}
		if _, err := session.Get[string](s, "k"); !errors.Is(err, session.ErrStore) {
			t.Errorf("Get during outage: %v", err)
		}
		if err := session.Put(s, "k", "v"); !errors.Is(err, session.ErrStore) {
			t.Errorf("Put during outage: %v", err)
		}
		if s.User() != "" {
			t.Error("User during outage is not empty")
		}
		w.WriteHeader(http.StatusTeapot)
	})
	if resp.StatusCode != http.StatusTeapot || after != tok {
		t.Fatalf("status %d, token changed %v: the handler's answer must stand and the cookie be kept", resp.StatusCode, after != tok)
	}
	// Changes that cannot be committed replace the response before headers go out.
	e.store.fail.Store(false)
	_, anon := e.do("", nop)
	e.store.fail.Store(true)
	resp, _ = e.do(anon, func(w http.ResponseWriter, r *http.Request, s *session.Session) {
		put(t, "k", 1)(w, r, s)
		if _, err := w.Write([]byte("secret page")); err == nil {
			t.Error("Write after a failed commit succeeded")
		}
	})
	if resp.StatusCode != http.StatusServiceUnavailable || len(resp.Cookies()) != 0 {
		t.Fatalf("status %d cookies %v; want 503 without a cookie", resp.StatusCode, resp.Cookies())
	}
	// Recovery.
	e.store.fail.Store(false)
	if u := userOf(t, e, tok); u != "alice" {
		t.Fatalf("after recovery User = %q", u)
	}
}

func userOf(t *testing.T, e *env, tok string) string {
	var u string
	e.do(tok, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) { u = s.User() })
	return u
}

func TestCommitReportsErrors(t *testing.T) {
	e := newEnv(t, session.Options{})
	_, tok := e.do("", put(t, "a", 1))
	e.do(tok, func(_ http.ResponseWriter, r *http.Request, s *session.Session) {
		put(t, "b", 2)(nil, r, s)
		e.store.fail.Store(true)
		if err := s.Commit(r.Context()); !errors.Is(err, session.ErrStore) {
			t.Errorf("Commit during outage: %v", err)
		}
		e.store.fail.Store(false)
		if err := s.Commit(r.Context()); err != nil {
			t.Errorf("Commit after recovery: %v", err)
		}
		ctx, cancel := context.WithCancel(r.Context())
		cancel()
		put(t, "c", 3)(nil, r, s)
		if err := s.Commit(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("Commit with a canceled context: %v", err)
		}
	})
	if v, err := get[int](t, e, tok, "b"); v != 2 || err != nil {
		t.Fatalf("b = %v, %v", v, err)
	}
}

// hangingStore never answers until the caller gives up: a hung store.
type hangingStore struct{ session.Store }

func (hangingStore) Load(ctx context.Context, _ string) (session.Record, error) {
	<-ctx.Done()
	return session.Record{}, ctx.Err()
}

func TestStoreTimeout(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		st := newMemory(t)
		m, err := session.New(hangingStore{st}, session.Options{StoreTimeout: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(sessiontest.Login(t, m, "", map[string]any{"k": 1})) // Login never loads
		start := time.Now()
		var got error
		m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = session.From(r.Context()).Err()
		})).ServeHTTP(httptest.NewRecorder(), req)
		if !errors.Is(got, session.ErrStore) || !errors.Is(got, context.DeadlineExceeded) {
			t.Fatalf("Err = %v, want ErrStore wrapping DeadlineExceeded", got)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("gave up after %v, want StoreTimeout (2s)", d)
		}
	})
}

// The zero Options survive a hung store: a load gives up after DefaultCommitTimeout (it
// waited for as long as the request's context, which nothing ends on a plain server).
func TestStoreTimeoutDefault(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		st := newMemory(t)
		m, err := session.New(hangingStore{st}, session.Options{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.AddCookie(sessiontest.Login(t, m, "", map[string]any{"k": 1}))
		done := make(chan error, 1)
		go m.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			done <- session.From(r.Context()).Err()
		})).ServeHTTP(httptest.NewRecorder(), req)
		time.Sleep(time.Hour) // fake time: passes at once unless the load is still hanging
		select {
		case got := <-done:
			if !errors.Is(got, session.ErrStore) || !errors.Is(got, context.DeadlineExceeded) {
				t.Fatalf("Err = %v, want ErrStore wrapping DeadlineExceeded", got)
			}
		default:
			t.Fatal("a load from a hung store was still waiting after an hour with the zero Options")
		}
	})
}
