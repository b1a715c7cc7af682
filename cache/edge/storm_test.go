package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// 1000 concurrent stale hits within stale-while-revalidate make exactly one
// background revalidation, and every client is answered from storage.
func TestStaleWhileRevalidateStorm(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(fixed(e.clk, "v1", "Cache-Control", "max-age=1, stale-while-revalidate=600"))
	e.get("http://example.com/s")
	e.clk.Advance(5 * time.Second)
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		fixed(e.clk, "v2", "Cache-Control", "max-age=60")(w, r)
	})
	const n = 1000
	var wg sync.WaitGroup
	res := make([]*httptest.ResponseRecorder, n)
	for i := range n {
		wg.Go(func() { res[i] = e.get("http://example.com/s") })
	}
	wg.Wait()
	close(release)
	for _, w := range res {
		if w.Code != 200 || w.Body.String() != "v1" {
			t.Fatalf("%d %q %q", w.Code, w.Body, w.Header().Get("Cache-Status"))
		}
	}
	if got := e.org.n.Load(); got != 2 {
		t.Fatalf("origin requests %d, want 2 (the fill and one revalidation)", got)
	}
	if s := e.c.Stats(); s.Stale != n {
		t.Fatalf("Stats.Stale %d, want %d", s.Stale, n)
	}
}

// Stats count every request exactly once under concurrency.
func TestStatsExactUnderConcurrency(t *testing.T) {
	e := newEnv(t, edge.Options{})
	const keys, per = 20, 50
	var wg sync.WaitGroup
	for k := range keys {
		for range per {
			wg.Go(func() { e.get("http://example.com/k" + strings.Repeat("x", k)) })
		}
	}
	wg.Wait()
	s := e.c.Stats()
	if s.Hits+s.Misses+s.Collapsed != keys*per || s.Misses != keys || e.org.n.Load() != keys {
		t.Fatalf("%+v, origin %d", s, e.org.n.Load())
	}
	if s.StoredObjects != keys {
		t.Fatalf("StoredObjects %d, want %d", s.StoredObjects, keys)
	}
}

// A thousand clients collapse on a fill that turns out private: each is
// released to the origin once, no more (the herd is the clients, bounded).
func TestUncacheableFillHerdBounded(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(gated(e.clk, release, "Cache-Control", "private"))
	const n = 1000
	var wg sync.WaitGroup
	res := make([]*httptest.ResponseRecorder, n)
	for i := range n {
		wg.Go(func() { res[i] = e.get("http://example.com/p") })
	}
	for e.c.Stats().Collapsed+e.c.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := e.org.n.Load(); got != n {
		t.Fatalf("origin requests %d, want %d", got, n)
	}
	for _, w := range res {
		if w.Code != 200 || w.Body.String() != "collapsed body" {
			t.Fatalf("%d %q", w.Code, w.Body)
		}
	}
}

// Revalidation answered 404 replaces the stored response; 500 without
// stale-if-error is passed on and the stored response stays for later.
func TestRevalidationErrors(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(fixed(e.clk, "v1", "Cache-Control", "max-age=1", "Etag", `"1"`))
	e.get("http://example.com/r")
	e.clk.Advance(5 * time.Second)
	e.org.set(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	if w := e.get("http://example.com/r"); w.Code != 500 {
		t.Fatalf("500 on revalidation: %d", w.Code)
	}
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.WriteHeader(404)
	})
	if w := e.get("http://example.com/r"); w.Code != 404 {
		t.Fatalf("404 on revalidation: %d", w.Code)
	}
	if w := e.get("http://example.com/r"); w.Code != 404 || e.org.n.Load() != 3 {
		t.Fatalf("404 not stored: %d origin %d", w.Code, e.org.n.Load())
	}
}

// Header edge cases from a broken or hostile origin: never a crash, never
// a negative Age, stored only when the RFC allows.
func TestHostileResponseHeaders(t *testing.T) {
	cases := []struct {
		name   string
		hdr    []string
		stored bool
	}{
		{"Expires 0", []string{"Expires", "0"}, false},
		{"Expires -1", []string{"Expires", "-1"}, false},
		{"max-age huge", []string{"Cache-Control", "max-age=99999999999999999999999"}, true},
		{"s-maxage empty", []string{"Cache-Control", "s-maxage="}, false},
		{"s-maxage empty beside max-age", []string{"Cache-Control", "max-age=60, s-maxage="}, false},
		{"conflicting max-age", []string{"Cache-Control", "max-age=60", "Cache-Control", "max-age=0"}, false},
		{"non-ASCII", []string{"Cache-Control", "max-age=60, ñ=\xff"}, true},
		{"Date in the future", []string{"Date", "Fri, 01 Jan 2100 00:00:00 GMT", "Cache-Control", "max-age=60"}, true},
		{"CDN-Cache-Control malformed", []string{"CDN-Cache-Control", "max-age=\"x\", ,", "Cache-Control", "no-store"}, false},
		{"CDN-Cache-Control overrides", []string{"CDN-Cache-Control", "max-age=60", "Cache-Control", "no-store"}, true},
		{"many Cache-Control lines", append([]string{}, strings.Split(strings.Repeat("Cache-Control,max-age=60,", 500), ",")[:1000]...), true},
		{"zero-length body", []string{"Cache-Control", "max-age=60", "Content-Length", "0"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, edge.Options{})
			body := "b"
			if tc.name == "zero-length body" {
				body = ""
			}
			e.org.set(func(w http.ResponseWriter, r *http.Request) {
				if _, ok := w.Header()["Date"]; !ok {
					w.Header().Set("Date", e.clk.Now().UTC().Format(http.TimeFormat))
				}
				for i := 0; i+1 < len(tc.hdr); i += 2 {
					w.Header().Add(tc.hdr[i], tc.hdr[i+1])
				}
				io.WriteString(w, body)
			})
			e.get("http://example.com/h")
			e.clk.Advance(time.Second)
			w := e.get("http://example.com/h")
			if stored := e.org.n.Load() == 1; stored != tc.stored {
				t.Fatalf("served from storage %v, want %v (%q)", stored, tc.stored, w.Header().Get("Cache-Status"))
			}
			if w.Body.String() != body {
				t.Fatalf("body %q", w.Body)
			}
			if a := w.Header().Get("Age"); strings.HasPrefix(a, "-") {
				t.Fatalf("Age %q", a)
			}
		})
	}
}
