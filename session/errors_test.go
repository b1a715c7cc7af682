package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// wantOnePrefix: the message starts with "session: " and never repeats it.
func wantOnePrefix(t *testing.T, what string, err error) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, "session: ") || strings.Count(msg, "session: ") != 1 {
		t.Errorf("%s: %q: want the prefix \"session: \" once, first", what, msg)
	}
}

// Every bad configuration names its field and value after the sentinel, once prefixed.
func TestOptionsErrorsPrefixOnce(t *testing.T) {
	st := newMemory(t)
	for _, o := range []session.Options{{IdleTimeout: -1}, {Lifetime: -1}, {Grace: -1}, {TouchInterval: -1},
		{MaxSize: -1}, {StoreTimeout: -1}, {CookieName: "a b"}, {IdleTimeout: 1, TouchInterval: 2},
		{CookieName: "__Host-session", Insecure: true}} {
		_, err := session.New(st, o)
		if !errors.Is(err, session.ErrInvalidOptions) {
			t.Fatalf("New(%+v): %v, want ErrInvalidOptions", o, err)
		}
		wantOnePrefix(t, "New", err)
	}
	_, err := session.New(nil, session.Options{})
	wantOnePrefix(t, "New(nil)", err)
	_, err = session.NewMemoryStore(session.MemoryOptions{CleanupInterval: -time.Second})
	if !errors.Is(err, session.ErrInvalidOptions) {
		t.Fatalf("NewMemoryStore: %v", err)
	}
	wantOnePrefix(t, "NewMemoryStore", err)
}

// conflictStore answers every Create and Renew with the store's ErrExists, as a store
// does for a taken key.
type conflictStore struct{ session.Store }

func (conflictStore) Create(context.Context, string, session.Record) error { return session.ErrExists }
func (conflictStore) Renew(context.Context, string, string, time.Time, time.Duration) error {
	return session.ErrExists
}

// A store's own session sentinel, wrapped in ErrStore, keeps one prefix and both matches.
func TestStoreErrorsPrefixOnce(t *testing.T) {
	st := newMemory(t)
	m, err := session.New(conflictStore{st}, session.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.From(r.Context())
		_ = session.Put(s, "a", 1)
		errs = append(errs, s.Commit(r.Context()))
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	for _, err := range errs {
		if !errors.Is(err, session.ErrStore) || !errors.Is(err, session.ErrExists) {
			t.Fatalf("commit onto a taken key: %v, want ErrStore and ErrExists", err)
		}
		wantOnePrefix(t, "commit", err)
	}
	if len(errs) != 1 {
		t.Fatalf("%d commits", len(errs))
	}
}
