package app_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/internal/testenv"
)

// stepClock is a Config.Now the test moves.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Key records expire after IdempotencyKeyTTL (the draft: a resource
// defines its keys' expiry): the table is bounded by the keys of that
// window, not every key ever sent, and an expired key starts afresh.
func TestIdempotencyKeysExpire(t *testing.T) {
	ctx := context.Background()
	lite, err := app.OpenSQLite(t.TempDir() + "/app.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	pg, err := app.OpenPostgres(ctx, testenv.Postgres(t).DSN, app.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	for name, tc := range map[string]struct {
		db *sql.DB
		d  app.Dialect
	}{"sqlite": {lite, app.SQLite}, "postgres": {pg, app.Postgres}} {
		t.Run(name, func(t *testing.T) {
			s, err := app.NewSQLStore(tc.db, nil, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			clock := &stepClock{now: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)}
			_, srv := newServer(t, app.Config{Store: s, Now: clock.Now})
			c := newClient(t, srv.URL)
			c.keyedDo("/api/signup", "", map[string]string{"name": "fay", "password": "password1"})
			for _, k := range []string{"k", "k1", "k2", "k3"} {
				if code, _ := c.keyedDo("/api/posts", k, map[string]string{"body": "old " + k}); code != 201 {
					t.Fatalf("post %s: %d", k, code)
				}
			}
			clock.Add(app.IdempotencyKeyTTL / 2)
			if code, _ := c.keyedDo("/api/posts", "k", map[string]string{"body": "new"}); code != 422 {
				t.Errorf("key reused within its TTL for another body: %d, want 422", code)
			}
			clock.Add(app.IdempotencyKeyTTL/2 + time.Minute)
			if code, body := c.keyedDo("/api/posts", "k", map[string]string{"body": "new"}); code != 201 {
				t.Errorf("expired key with another body: %d %s, want 201 (a new request)", code, body)
			}
			if n := countRows(t, tc.db, "app_idempotency"); n != 1 {
				t.Errorf("%d key records, want 1: the expired ones are deleted", n)
			}
			if n := countPosts(t, s, "fay"); n != 5 {
				t.Errorf("%d posts, want 5", n)
			}
		})
	}
}
