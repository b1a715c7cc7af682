package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/session"
)

// newSQLite returns a migrated SQLite store in a temporary directory.
func newSQLite(t testing.TB) *app.SQLStore {
	t.Helper()
	db, err := app.OpenSQLite(filepath.Join(t.TempDir(), "app.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func newServer(t *testing.T, cfg app.Config) (*app.App, *httptest.Server) {
	t.Helper()
	cfg.SessionOptions.Insecure = true
	if cfg.KDFIterations == 0 {
		cfg.KDFIterations = app.MinKDFIterations
	}
	a, err := app.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return a, srv
}

type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, c: &http.Client{Jar: jar}}
}

func (c *client) do(method, path string, in any) (int, string) {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestSignupLoginPostFeed(t *testing.T) {
	var sent atomic.Int64
	mailer, err := app.NewMailer(app.MailerOptions{Sink: func(context.Context, app.Sent) error { sent.Add(1); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	a, srv := newServer(t, app.Config{Store: newSQLite(t), Mailer: mailer})
	alice := newClient(t, srv.URL)
	if code, body := alice.do("POST", "/api/signup", map[string]string{"name": "alice", "password": "secret-password"}); code != 201 {
		t.Fatalf("signup: %d %s", code, body)
	}
	if code, _ := newClient(t, srv.URL).do("POST", "/api/signup", map[string]string{"name": "alice", "password": "other-password"}); code != http.StatusConflict {
		t.Fatalf("second signup of alice: %d, want 409", code)
	}
	if code, body := alice.do("POST", "/api/posts", map[string]string{"body": "hello"}); code != 201 {
		t.Fatalf("post: %d %s", code, body)
	}
	if code, _ := newClient(t, srv.URL).do("POST", "/api/posts", map[string]string{"body": "anon"}); code != http.StatusUnauthorized {
		t.Fatalf("post logged out: %d, want 401", code)
	}
	bob := newClient(t, srv.URL)
	if code, _ := bob.do("POST", "/api/login", map[string]string{"name": "alice", "password": "wrong-password"}); code != http.StatusUnauthorized {
		t.Fatalf("login with a wrong password: %d, want 401", code)
	}
	if code, _ := bob.do("POST", "/api/login", map[string]string{"name": "nobody", "password": "wrong-password"}); code != http.StatusUnauthorized {
		t.Fatalf("login of an unknown user: %d, want 401", code)
	}
	if code, body := bob.do("POST", "/api/login", map[string]string{"name": "alice", "password": "secret-password"}); code != 200 {
		t.Fatalf("login: %d %s", code, body)
	}
	code, body := bob.do("GET", "/api/feed", nil)
	if code != 200 || !strings.Contains(body, `"body":"hello"`) || !strings.Contains(body, `"author":"alice"`) {
		t.Fatalf("feed: %d %s", code, body)
	}
	if code, body := bob.do("GET", "/api/users/alice/posts?limit=5", nil); code != 200 || !strings.Contains(body, "hello") {
		t.Fatalf("user posts: %d %s", code, body)
	}
	if code, _ := bob.do("GET", "/api/feed?limit=1000", nil); code != 400 {
		t.Fatalf("feed limit 1000: %d, want 400", code)
	}
	if code, body := bob.do("GET", "/", nil); code != 200 || !strings.Contains(body, "/assets/style.") || !strings.Contains(body, "hello") {
		t.Fatalf("index page: %d %s", code, body)
	}
	if code, _ := bob.do("GET", "/readyz", nil); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	st := a.Stats()
	if st.Signups != 1 || st.Logins != 1 || st.LoginFailures != 2 || st.Posts != 1 || st.MailsInline != 1 || sent.Load() != 1 {
		t.Fatalf("stats %+v, sent %d", st, sent.Load())
	}
}

func TestFormsNeedSameOrigin(t *testing.T) {
	_, srv := newServer(t, app.Config{Store: newSQLite(t)})
	req, _ := http.NewRequest("POST", srv.URL+"/signup", strings.NewReader("name=eve&password=12345678"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site form post: %d, want 403", resp.StatusCode)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := app.HashPassword("pw-123456", app.MinKDFIterations)
	if err != nil {
		t.Fatal(err)
	}
	if !app.CheckPassword(h, "pw-123456") || app.CheckPassword(h, "pw-123457") {
		t.Fatal("CheckPassword does not tell the password")
	}
	if _, err := app.HashPassword("x", 10); err == nil {
		t.Fatal("10 iterations accepted")
	}
	for _, bad := range []string{"", "pbkdf2-sha256$1$a$b", "md5$1000$AA$AA", h + "$x"} {
		if app.CheckPassword(bad, "pw-123456") {
			t.Fatalf("malformed hash %q matched", bad)
		}
	}
}

var _ session.Store = (*session.MemoryStore)(nil)

func newFuzzStore(f *testing.F) *app.SQLStore { return newSQLite(f) }
