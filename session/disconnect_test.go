package session_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// ctxStore fails calls whose context is done, as network stores do.
type ctxStore struct{ session.Store }

func (c ctxStore) Apply(ctx context.Context, key string, u session.Update) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return c.Store.Apply(ctx, key, u)
}

// A client that disconnects while the handler runs cancels the request's
// context; the change the handler made must still be committed (the
// handler did its work: a spent one-time code, a cart update), bounded by
// StoreTimeout rather than by the client's patience.
func TestCommitSurvivesClientDisconnect(t *testing.T) {
	e := newEnv(t, session.Options{})
	m, err := session.New(ctxStore{e.store}, session.Options{StoreTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
	_, token := e.do("", put(t, "step", 1))
	if token == "" {
		t.Fatal("no session")
	}
	ctx, disconnect := context.WithCancel(context.Background())
	req := httptest.NewRequest("POST", "http://example.com/", nil).WithContext(ctx)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: token})
	m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		disconnect() // the client goes away mid-request
		if err := session.Put(session.From(r.Context()), "step", 2); err != nil {
			t.Error(err)
		}
	})).ServeHTTP(httptest.NewRecorder(), req)
	if v, err := get[int](t, e, token, "step"); err != nil || v != 2 {
		t.Fatalf("step = %v, %v after the client disconnected; want 2", v, err)
	}
}
