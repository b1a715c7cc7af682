package app_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/examples/app"
)

// lockedBuffer is a bytes.Buffer a logger may write from request goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// What an attacker sends: script in a post, SQL in a name, oversized bodies,
// login probes. The application must escape, refuse, bound and not tell.
func TestHostileInputIsHarmless(t *testing.T) {
	var logs lockedBuffer
	_, srv := newServer(t, app.Config{Store: newSQLite(t), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	const pw = "Tr0ub4dor&3-secret"
	mal := newClient(t, srv.URL)
	if code, body := mal.do("POST", "/api/signup", map[string]string{"name": "mallory", "password": pw}); code != 201 {
		t.Fatalf("signup: %d %s", code, body)
	}

	t.Run("session cookie flags", func(t *testing.T) {
		u, _ := url.Parse(srv.URL)
		cs := mal.c.Jar.Cookies(u)
		if len(cs) == 0 {
			t.Fatal("no session cookie after signup")
		}
		resp, err := http.Post(srv.URL+"/api/login", "application/json", strings.NewReader(`{"name":"mallory","password":"`+pw+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode && c.SameSite != http.SameSiteStrictMode {
				t.Errorf("cookie %s: HttpOnly %v SameSite %v", c.Name, c.HttpOnly, c.SameSite)
			}
			if strings.Contains(logs.String(), c.Value) {
				t.Errorf("the session ID is in the logs")
			}
		}
	})

	t.Run("script in a post is escaped in the page", func(t *testing.T) {
		const xss = `<script>alert(document.cookie)</script><img src=x onerror=alert(1)>`
		if code, body := mal.do("POST", "/api/posts", map[string]string{"body": xss}); code != 201 {
			t.Fatalf("post: %d %s", code, body)
		}
		code, page := mal.do("GET", "/", nil)
		if code != 200 || strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
			t.Fatalf("page %d carries the post unescaped:\n%s", code, page)
		}
		if !strings.Contains(page, "&lt;script&gt;alert") {
			t.Fatalf("page lacks the escaped post:\n%s", page)
		}
	})

	t.Run("SQL in names", func(t *testing.T) {
		for _, name := range []string{`x' OR '1'='1`, `mallory'--`, `"; DROP TABLE app_users; --`} {
			if code, _ := newClient(t, srv.URL).do("POST", "/api/signup", map[string]string{"name": name, "password": pw}); code != 400 {
				t.Errorf("signup as %q: %d, want 400", name, code)
			}
			if code, _ := newClient(t, srv.URL).do("POST", "/api/login", map[string]string{"name": name, "password": pw}); code != 401 {
				t.Errorf("login as %q: %d, want 401", name, code)
			}
			code, body := mal.do("GET", "/api/users/"+url.PathEscape(name)+"/posts", nil)
			if code != 200 || strings.Contains(body, "mallory") {
				t.Errorf("posts of %q: %d %s, want 200 and none", name, code, body)
			}
		}
		if code, body := mal.do("GET", "/api/feed", nil); code != 200 || !strings.Contains(body, "mallory") {
			t.Fatalf("feed after the injections: %d %s", code, body)
		}
	})

	t.Run("login failures do not tell which part was wrong", func(t *testing.T) {
		c1, b1 := newClient(t, srv.URL).do("POST", "/api/login", map[string]string{"name": "mallory", "password": "wrong-password"})
		c2, b2 := newClient(t, srv.URL).do("POST", "/api/login", map[string]string{"name": "nobody", "password": "wrong-password"})
		if c1 != c2 || b1 != b2 {
			t.Errorf("wrong password: %d %s; unknown user: %d %s", c1, b1, c2, b2)
		}
	})

	t.Run("oversized bodies are refused", func(t *testing.T) {
		big := strings.Repeat("a", 1<<20)
		for _, r := range []struct{ path, ctype, body string }{
			{"/api/posts", "application/json", `{"body":"` + big + `"}`},
			{"/api/signup", "application/json", `{"name":"` + big + `","password":"x"}`},
			{"/post", "application/x-www-form-urlencoded", "body=" + big},
			{"/login", "application/x-www-form-urlencoded", "name=a&password=" + big},
		} {
			req, _ := http.NewRequest("POST", srv.URL+r.path, strings.NewReader(r.body))
			req.Header.Set("Content-Type", r.ctype)
			resp, err := mal.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 400 && resp.StatusCode != 413 {
				t.Errorf("POST %s with 1 MiB: %d, want 400 or 413", r.path, resp.StatusCode)
			}
		}
	})

	if strings.Contains(logs.String(), pw) {
		t.Errorf("the password is in the logs:\n%s", logs.String())
	}
}
