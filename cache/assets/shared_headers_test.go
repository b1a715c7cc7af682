package assets_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

// Header values are shared between responses: a middleware adding to them
// after the handler must not change the next response.
func TestMiddlewareAddDoesNotLeak(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		w.Header().Add("Cache-Control", "no-transform")
		a.ServeHTTP(w, r)
		w.Header().Add("Vary", "Cookie") // too late for the wire, not for the map
	})
	js := mustURL(t, a, "js/app.js")
	for range 3 {
		do(mw, "GET", js)
	}
	if got := do(mw, "GET", js).Header().Values("Vary"); len(got) < 2 || got[0] != "Origin" || got[1] != "Accept-Encoding" {
		t.Errorf("middleware's Vary lost: %v", got)
	}
	w := do(a, "GET", js)
	if got := w.Header().Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding" {
		t.Errorf("Vary %v", got)
	}
	if got := w.Header().Values("Cache-Control"); len(got) != 1 {
		t.Errorf("Cache-Control %v", got)
	}
}

// The rarer preconditions go through http.ServeContent; an encoded full
// response still has its Content-Length, and every 200 says Accept-Ranges.
func TestServeContentPathKeepsLength(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	js := mustURL(t, a, "js/app.js")
	etag := do(a, "GET", js, "Accept-Encoding", "gzip").Header().Get("ETag")
	w := do(a, "GET", js, "Accept-Encoding", "gzip", "If-Match", etag)
	if w.Code != 200 || w.Header().Get("Content-Length") != fmt.Sprint(w.Body.Len()) || w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if do(a, "GET", js).Header().Get("Accept-Ranges") != "bytes" {
		t.Error("no Accept-Ranges")
	}
}

// The same bytes under another extension are another response: a previous
// build's hashed name never borrows the current file's Content-Type.
func TestPreviousAliasKeepsContentType(t *testing.T) {
	old := mustNew(t, fstest.MapFS{"a.txt": {Data: []byte("same")}}, assets.Options{})
	m := old.Manifest()
	quiet := slog.New(slog.DiscardHandler)
	a := mustNew(t, fstest.MapFS{"b.css": {Data: []byte("same")}}, assets.Options{Previous: []assets.Build{{Manifest: &m}}, Logger: quiet})
	// Manifest alone: the bytes are known, the type is a.txt's own.
	if w := do(a, "GET", mustURL(t, old, "a.txt")); w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("a.txt: %d as %q", w.Code, w.Header().Get("Content-Type"))
	}
	if w := do(a, "GET", mustURL(t, a, "b.css")); w.Header().Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("b.css served as %q", w.Header().Get("Content-Type"))
	}
	b := mustNew(t, fstest.MapFS{"b.css": {Data: []byte("same")}}, assets.Options{Previous: []assets.Build{{Manifest: &m, FS: fstest.MapFS{"a.txt": {Data: []byte("same")}}}}})
	if w := do(b, "GET", mustURL(t, old, "a.txt")); w.Code != 200 || w.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("%d %q", w.Code, w.Header().Get("Content-Type"))
	}
}

// Many clients at once over loopback, mixed encodings and conditionals:
// every response is the bytes its headers describe (run with -race).
func TestConcurrentClients(t *testing.T) {
	fsys := site(t)
	a := mustNew(t, fsys, assets.Options{})
	srv := httptest.NewServer(a)
	defer srv.Close()
	js := mustURL(t, a, "js/app.js")
	want := map[string][]byte{"": appJS, "gzip": fsys["js/app.js.gz"].Data, "br": fsys["js/app.js.br"].Data}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			enc := []string{"", "gzip", "br", "gzip, br"}[g%4]
			for range 50 {
				req, _ := http.NewRequest("GET", srv.URL+js, nil)
				req.Header.Set("Accept-Encoding", enc)
				res, err := srv.Client().Transport.RoundTrip(req)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				ce := res.Header.Get("Content-Encoding")
				if res.StatusCode != 200 || string(body) != string(want[ce]) {
					errs <- fmt.Errorf("%q: %d %q", enc, res.StatusCode, ce)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
