package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

var errOutage = errors.New("store outage")

// countingStore wraps a real store, counts the calls that reach it and can fail them
// (fault injection).
type countingStore struct {
	session.Store
	loads, creates, applies, renews, destroys atomic.Int64
	fail                                      atomic.Bool
	failApply                                 atomic.Bool // fail only Apply
}

func (c *countingStore) err() error {
	if c.fail.Load() {
		return errOutage
	}
	return nil
}

func (c *countingStore) Load(ctx context.Context, key string) (session.Record, error) {
	c.loads.Add(1)
	if err := c.err(); err != nil {
		return session.Record{}, err
	}
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Create(ctx context.Context, key string, rec session.Record) error {
	c.creates.Add(1)
	if err := c.err(); err != nil {
		return err
	}
	return c.Store.Create(ctx, key, rec)
}

func (c *countingStore) Apply(ctx context.Context, key string, u session.Update) error {
	c.applies.Add(1)
	if err := c.err(); err != nil {
		return err
	}
	if c.failApply.Load() {
		return errOutage
	}
	return c.Store.Apply(ctx, key, u)
}

func (c *countingStore) Renew(ctx context.Context, o, n string, exp time.Time, g time.Duration) error {
	c.renews.Add(1)
	if err := c.err(); err != nil {
		return err
	}
	return c.Store.Renew(ctx, o, n, exp, g)
}

func (c *countingStore) Destroy(ctx context.Context, key string, g time.Duration) error {
	c.destroys.Add(1)
	if err := c.err(); err != nil {
		return err
	}
	return c.Store.Destroy(ctx, key, g)
}

func (c *countingStore) writes() int64 {
	return c.creates.Load() + c.applies.Load() + c.renews.Load() + c.destroys.Load()
}

type env struct {
	t     *testing.T
	store *countingStore
	m     *session.Manager
}

func newEnv(t *testing.T, opts session.Options) *env {
	t.Helper()
	cs := &countingStore{Store: newMemory(t)}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := session.New(cs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: cs, m: m}
}

// do serves one request carrying cookie (a token, or "" for none) and returns the response
// and the token the client holds afterwards.
func (e *env) do(cookie string, h func(w http.ResponseWriter, r *http.Request, s *session.Session)) (*http.Response, string) {
	e.t.Helper()
	req := httptest.NewRequest("GET", "http://example.com/", nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: cookie})
	}
	rec := httptest.NewRecorder()
	e.m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, session.From(r.Context()))
	})).ServeHTTP(rec, req)
	resp := rec.Result()
	return resp, tokenAfter(resp, cookie)
}

// tokenAfter applies the response's Set-Cookie to the client's token.
func tokenAfter(resp *http.Response, cookie string) string {
	for _, c := range resp.Cookies() {
		if c.Name == session.DefaultCookieName {
			if c.MaxAge < 0 {
				return ""
			}
			return c.Value
		}
	}
	return cookie
}

func put(t *testing.T, key string, v any) func(http.ResponseWriter, *http.Request, *session.Session) {
	return func(_ http.ResponseWriter, _ *http.Request, s *session.Session) {
		if err := session.Put(s, key, v); err != nil {
			t.Errorf("Put: %v", err)
		}
	}
}

func get[T any](t *testing.T, e *env, token, key string) (T, error) {
	t.Helper()
	var v T
	var err error
	e.do(token, func(_ http.ResponseWriter, _ *http.Request, s *session.Session) { v, err = session.Get[T](s, key) })
	return v, err
}

func nop(http.ResponseWriter, *http.Request, *session.Session) {}
