package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/internal/testenv"
)

// keyedDo sends a JSON POST with an Idempotency-Key (none if key is "").
func (c *client) keyedDo(path, key string, in any) (int, string) {
	c.t.Helper()
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

func countPosts(t *testing.T, s app.Store, author string) int {
	t.Helper()
	posts, err := s.UserPosts(context.Background(), author, app.MaxFeedLimit)
	if err != nil {
		t.Fatal(err)
	}
	return len(posts)
}

// stores returns the keyed stores the app runs on: SQLite, SQLite behind
// the data tier's HTTP (RemoteStore), and PostgreSQL.
func keyedStores(t *testing.T) map[string]app.Store {
	t.Helper()
	lite := newSQLite(t)
	data := httptest.NewServer(app.NewStoreHandler(app.Count(newSQLite(t))))
	t.Cleanup(data.Close)
	remote, err := app.NewRemoteStore(data.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	pg := testenv.Postgres(t)
	db, err := app.OpenPostgres(context.Background(), pg.DSN, app.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ps, err := app.NewSQLStore(db, nil, app.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return map[string]app.Store{"sqlite": lite, "remote": remote, "postgres": ps}
}

// The same key twice makes one post; the repeat answers what the first did.
func TestIdempotencyKeySamePostOnce(t *testing.T) {
	for name, s := range keyedStores(t) {
		t.Run(name, func(t *testing.T) {
			_, srv := newServer(t, app.Config{Store: s})
			c := newClient(t, srv.URL)
			if code, _ := c.keyedDo("/api/signup", "sign-1", map[string]string{"name": "ann", "password": "password1"}); code != 201 {
				t.Fatalf("signup %d", code)
			}
			code1, body1 := c.keyedDo("/api/posts", "post-1", map[string]string{"body": "hello"})
			code2, body2 := c.keyedDo("/api/posts", `"post-1"`, map[string]string{"body": "hello"}) // the draft's sf-string form
			if code1 != 201 || code2 != 201 || body1 != body2 {
				t.Errorf("first %d %s, repeat %d %s: want the same 201", code1, body1, code2, body2)
			}
			if !strings.Contains(body1, `"id":`) || strings.Contains(body1, `"id":0`) {
				t.Errorf("answer %s: want the post's ID", body1)
			}
			if n := countPosts(t, s, "ann"); n != 1 {
				t.Errorf("%d posts, want 1", n)
			}
			// The same key for another body is a misuse: 422, nothing written.
			if code, _ := c.keyedDo("/api/posts", "post-1", map[string]string{"body": "other"}); code != http.StatusUnprocessableEntity {
				t.Errorf("key reused for another body: %d, want 422", code)
			}
			// Another key, another post; no key, a post each time.
			c.keyedDo("/api/posts", "post-2", map[string]string{"body": "hello"})
			c.keyedDo("/api/posts", "", map[string]string{"body": "hello"})
			c.keyedDo("/api/posts", "", map[string]string{"body": "hello"})
			if n := countPosts(t, s, "ann"); n != 4 {
				t.Errorf("%d posts, want 4", n)
			}
		})
	}
}

// A signup repeated with its key answers 201 and logs the repeating client
// in (the first answer, cookie included, may have been lost), but only with
// the password the user signed up with.
func TestIdempotencyKeySignupRepeat(t *testing.T) {
	for name, s := range keyedStores(t) {
		t.Run(name, func(t *testing.T) {
			_, srv := newServer(t, app.Config{Store: s})
			first := newClient(t, srv.URL)
			if code, _ := first.keyedDo("/api/signup", "k1", map[string]string{"name": "bob", "password": "password1"}); code != 201 {
				t.Fatalf("signup %d", code)
			}
			again := newClient(t, srv.URL) // as if the first answer was lost
			if code, body := again.keyedDo("/api/signup", "k1", map[string]string{"name": "bob", "password": "password1"}); code != 201 {
				t.Fatalf("repeat %d %s, want 201", code, body)
			}
			if code, _ := again.keyedDo("/api/posts", "", map[string]string{"body": "hi"}); code != 201 {
				t.Errorf("post after the repeated signup: %d, want 201 (logged in)", code)
			}
			thief := newClient(t, srv.URL)
			if code, _ := thief.keyedDo("/api/signup", "k1", map[string]string{"name": "bob", "password": "password2"}); code != http.StatusUnprocessableEntity {
				t.Errorf("repeat with another password: %d, want 422", code)
			}
			if code, _ := thief.keyedDo("/api/posts", "", map[string]string{"body": "hi"}); code != http.StatusUnauthorized {
				t.Errorf("post by the client with the wrong password: %d, want 401", code)
			}
			// Without a key a second signup of the name is still taken.
			if code, _ := newClient(t, srv.URL).keyedDo("/api/signup", "", map[string]string{"name": "bob", "password": "password1"}); code != http.StatusConflict {
				t.Errorf("unkeyed repeat: %d, want 409", code)
			}
		})
	}
}

// Concurrent duplicates: one does the work, the others wait for it and
// answer its outcome.
func TestIdempotencyKeyConcurrentDuplicates(t *testing.T) {
	for name, s := range keyedStores(t) {
		t.Run(name, func(t *testing.T) {
			_, srv := newServer(t, app.Config{Store: s})
			c := newClient(t, srv.URL)
			if code, _ := c.keyedDo("/api/signup", "", map[string]string{"name": "cat", "password": "password1"}); code != 201 {
				t.Fatalf("signup %d", code)
			}
			var wg sync.WaitGroup
			bodies := make([]string, 8)
			codes := make([]int, 8)
			for i := range 8 {
				wg.Go(func() { codes[i], bodies[i] = c.keyedDo("/api/posts", "same", map[string]string{"body": "once"}) })
			}
			wg.Wait()
			for i := range 8 {
				if codes[i] != 201 || bodies[i] != bodies[0] {
					t.Errorf("duplicate %d: %d %s, want 201 %s", i, codes[i], bodies[i], bodies[0])
				}
			}
			if n := countPosts(t, s, "cat"); n != 1 {
				t.Errorf("%d posts, want 1", n)
			}
		})
	}
}

// Keys are bounded in length and charset; a bad one is refused with 400
// before any work.
func TestIdempotencyKeyBadKeys(t *testing.T) {
	s := newSQLite(t)
	_, srv := newServer(t, app.Config{Store: s})
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: srv.URL, c: &http.Client{Jar: jar}}
	if code, _ := c.keyedDo("/api/signup", "", map[string]string{"name": "dan", "password": "password1"}); code != 201 {
		t.Fatal("signup")
	}
	for _, key := range []string{`""`, `"`, strings.Repeat("a", app.MaxIdempotencyKeyLen+1), "a b", "a\"b", "ключ", "a,b", "'x'", "\"x", "<script>"} {
		if code, _ := c.keyedDo("/api/posts", key, map[string]string{"body": "x"}); code != http.StatusBadRequest {
			t.Errorf("key %q: %d, want 400", key, code)
		}
	}
	// Two keys on one request.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/posts", strings.NewReader(`{"body":"x"}`))
	req.Header.Add("Idempotency-Key", "a")
	req.Header.Add("Idempotency-Key", "b")
	if resp, err := c.c.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("two keys: %v %v, want 400", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	if n := countPosts(t, s, "dan"); n != 0 {
		t.Errorf("%d posts after bad keys, want 0", n)
	}
	if code, _ := c.keyedDo("/api/posts", strings.Repeat("a", app.MaxIdempotencyKeyLen), map[string]string{"body": "x"}); code != 201 {
		t.Errorf("key at the length bound: %d, want 201", code)
	}
}

func FuzzParseIdempotencyKey(f *testing.F) {
	for _, s := range []string{"", `""`, `"abc"`, "8e03978e-40d5-43e8-bc93-6894a57f9324", "a b", strings.Repeat("z", 70), "\x00", `"a\"b"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := app.ParseIdempotencyKey(s)
		if err != nil {
			return
		}
		if k == "" && s != "" || len(k) > app.MaxIdempotencyKeyLen {
			t.Fatalf("%q → %q", s, k)
		}
		for _, c := range k {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
				t.Fatalf("%q → %q holds %q", s, k, c)
			}
		}
	})
}
