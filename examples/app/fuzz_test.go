package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/examples/app"
)

// A stored hash is input too (a row edited by hand, a migration gone wrong):
// a malformed one never matches and never panics.
func FuzzCheckPassword(f *testing.F) {
	good, err := app.HashPassword("password-1", app.MinKDFIterations)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "$$$", "pbkdf2-sha256$1000$$", "pbkdf2-sha256$99999999999$AA$AA", "pbkdf2-sha256$1000$AA$" + strings.Repeat("A", 200)} {
		f.Add(s, "password-1")
	}
	f.Fuzz(func(t *testing.T, encoded, password string) {
		if app.CheckPassword(encoded, password) && encoded != good {
			// Only a well-formed hash of this password may match.
			if !strings.HasPrefix(encoded, "pbkdf2-sha256$") {
				t.Fatalf("%q matched", encoded)
			}
		}
	})
}

// Whatever a client sends to the JSON API, the answer is a 2xx or a 4xx
// (never a 500, never a panic).
func FuzzAPI(f *testing.F) {
	for _, seed := range []struct{ path, body string }{
		{"/api/signup", `{"name":"ann","password":"password-1"}`},
		{"/api/signup", `{"name":"a b","password":"x"}`},
		{"/api/signup", `{"name":"ann","password":"password-1","extra":1}`},
		{"/api/login", `{"name":"ann","password":"password-1"}`},
		{"/api/login", `{"name":"` + strings.Repeat("x", 300) + `"}`},
		{"/api/posts", `{"body":"hi"}`},
		{"/api/posts", `{"body":"\xff"}`},
		{"/api/signup", `[`},
		{"/api/feed?limit=-1", ``},
		{"/api/users/%00/posts?limit=5", ``},
	} {
		f.Add(seed.path, seed.body)
	}
	a, err := app.New(app.Config{Store: newFuzzStore(f), SessionOptions: app.LoopbackSessionOptions(), KDFIterations: app.MinKDFIterations})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/api/") {
			path = "/api/" + path
		}
		method := http.MethodPost
		if strings.HasPrefix(path, "/api/feed") || strings.HasPrefix(path, "/api/users/") {
			method = http.MethodGet
		}
		req, err := http.NewRequest(method, "http://app"+path, strings.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		w := httptest.NewRecorder()
		a.ServeHTTP(w, req)
		if w.Code >= 500 {
			b, _ := io.ReadAll(w.Body)
			t.Fatalf("%s %s %q: %d %s", method, path, body, w.Code, b)
		}
	})
}
