package app_test

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/examples/app"
)

// A key is the client's, scoped by user: another user sending the same key
// (with the same payload or another) gets a post of its own, never the
// first user's post nor a 422.
func TestIdempotencyKeyOtherUserGetsOwnPost(t *testing.T) {
	for name, s := range keyedStores(t) {
		t.Run(name, func(t *testing.T) {
			_, srv := newServer(t, app.Config{Store: s})
			ann, bob, cat := newClient(t, srv.URL), newClient(t, srv.URL), newClient(t, srv.URL)
			for n, c := range map[string]*client{"ann": ann, "bob": bob, "cat": cat} {
				c.keyedDo("/api/signup", "", map[string]string{"name": n, "password": "password1"})
			}
			code, annPost := ann.keyedDo("/api/posts", "shared", map[string]string{"body": "ann's secret"})
			if code != 201 {
				t.Fatalf("ann's post %d", code)
			}
			code, same := bob.keyedDo("/api/posts", "shared", map[string]string{"body": "ann's secret"})
			if code != 201 || same == annPost || strings.Contains(same, `"author":"ann"`) {
				t.Errorf("bob, same key and body: %d %s; want his own post (ann's: %s)", code, same, annPost)
			}
			if code, other := cat.keyedDo("/api/posts", "shared", map[string]string{"body": "cat's"}); code != 201 {
				t.Errorf("cat, same key, another body: %d %s; want 201", code, other)
			}
			for _, n := range []string{"ann", "bob", "cat"} {
				if got := countPosts(t, s, n); got != 1 {
					t.Errorf("%s has %d posts, want 1", n, got)
				}
			}
		})
	}
}

// Work that fails leaves no key record: the same request sent again with
// its key does the work.
func TestIdempotencyKeyFailedWorkIsNotRecorded(t *testing.T) {
	ctx := context.Background()
	db, err := app.OpenSQLite(t.TempDir() + "/app.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	_, srv := newServer(t, app.Config{Store: s})
	c := newClient(t, srv.URL)
	c.keyedDo("/api/signup", "", map[string]string{"name": "eve", "password": "password1"})
	// The post's insert fails after the key was claimed in its transaction.
	mustExec(t, db, `CREATE TRIGGER fail_post BEFORE INSERT ON app_posts BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`)
	if code, _ := c.keyedDo("/api/posts", "k", map[string]string{"body": "once"}); code < 500 {
		t.Fatalf("post while inserts fail: %d, want a 5xx", code)
	}
	if n := countRows(t, db, "app_idempotency"); n != 0 {
		t.Errorf("%d key records after failed work, want 0", n)
	}
	mustExec(t, db, `DROP TRIGGER fail_post`)
	if code, body := c.keyedDo("/api/posts", "k", map[string]string{"body": "once"}); code != 201 {
		t.Errorf("the same request again: %d %s, want 201", code, body)
	}
	if n := countPosts(t, s, "eve"); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Concurrent duplicates of a keyed signup: one signs up, the others answer
// its outcome (201, logged in); the same key with other payloads at once:
// one post is made, each other answer is the same post or 422.
func TestIdempotencyKeyConcurrentSignupsAndMixedPayloads(t *testing.T) {
	for name, s := range keyedStores(t) {
		t.Run(name, func(t *testing.T) {
			_, srv := newServer(t, app.Config{Store: s})
			clients := make([]*client, 6)
			codes := make([]int, 6)
			var wg sync.WaitGroup
			for i := range clients {
				clients[i] = newClient(t, srv.URL)
				wg.Go(func() {
					codes[i], _ = clients[i].keyedDo("/api/signup", "sign", map[string]string{"name": "hal", "password": "password1"})
				})
			}
			wg.Wait()
			for i, code := range codes {
				if code != 201 {
					t.Errorf("signup duplicate %d: %d, want 201", i, code)
				}
			}
			bodies := make([]string, 6)
			for i := range clients {
				wg.Go(func() {
					codes[i], bodies[i] = clients[i].keyedDo("/api/posts", "mixed", map[string]string{"body": "v" + strconv.Itoa(i%2)})
				})
			}
			wg.Wait()
			var made string
			for i := range clients {
				switch {
				case codes[i] == 201 && (made == "" || bodies[i] == made):
					made = bodies[i]
				case codes[i] == http.StatusUnprocessableEntity:
				default:
					t.Errorf("mixed duplicate %d: %d %s (made %s)", i, codes[i], bodies[i], made)
				}
			}
			if n := countPosts(t, s, "hal"); n != 1 {
				t.Errorf("%d posts, want 1", n)
			}
		})
	}
}
