package lbreplicas

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The read-your-writes token travels user (cookie) → web server → data tier
// (header) and back, and a later call in the same request carries the token
// the data tier just gave.
func TestReadAfterTokenTravels(t *testing.T) {
	var seen []string
	data := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get(readAfterHeader))
		if r.Method == http.MethodPost {
			w.Header().Set(readAfterHeader, "tok-after-write")
		}
	}))
	defer data.Close()
	client := &http.Client{Transport: readAfterTransport{http.DefaultTransport}}
	call := func(ctx context.Context, method string) {
		req, _ := http.NewRequestWithContext(ctx, method, data.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	web := readAfter(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call(r.Context(), r.Method) // a write (POST) or a read
		call(r.Context(), http.MethodGet)
		w.WriteHeader(http.StatusOK)
	}))

	// A read with the user's token: forwarded, no new cookie.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/api/feed", nil)
	req.AddCookie(&http.Cookie{Name: readAfterCookie, Value: "tok-from-user"})
	web.ServeHTTP(rec, req)
	if seen[0] != "tok-from-user" || seen[1] != "tok-from-user" {
		t.Fatalf("data tier saw %q; want the user's token on both calls", seen)
	}
	if c := rec.Result().Cookies(); len(c) != 0 {
		t.Fatalf("a read set cookies %v", c)
	}

	// A write: the data tier's new token goes on the next call and back to
	// the user as the cookie.
	seen = nil
	rec = httptest.NewRecorder()
	web.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/posts", nil))
	if seen[0] != "" || seen[1] != "tok-after-write" {
		t.Fatalf("data tier saw %q; want no token, then the write's", seen)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != readAfterCookie || cs[0].Value != "tok-after-write" || !cs[0].HttpOnly {
		t.Fatalf("cookies %v; want %s=tok-after-write, HttpOnly", cs, readAfterCookie)
	}
}
