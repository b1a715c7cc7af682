package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
)

// BenchmarkHit serves a fresh stored 1 KiB response.
func BenchmarkHit(b *testing.B) {
	body := make([]byte, 1024)
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", "application/javascript")
		w.Header().Set("ETag", `"v1"`)
		w.Write(body)
	})
	c, err := edge.New(origin, edge.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := httptest.NewRequest(http.MethodGet, "http://example.com/app.js", nil)
	c.ServeHTTP(httptest.NewRecorder(), r)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		c.ServeHTTP(w, r)
	}
	if w.code != 200 {
		b.Fatal(w.code)
	}
}

// BenchmarkHitRecorder is BenchmarkHit through httptest.ResponseRecorder
// (which allocates its own header map and buffer per request).
func BenchmarkHitRecorder(b *testing.B) {
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		io.WriteString(w, "hello")
	})
	c, err := edge.New(origin, edge.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := httptest.NewRequest(http.MethodGet, "http://example.com/x", nil)
	c.ServeHTTP(httptest.NewRecorder(), r)
	b.ReportAllocs()
	for b.Loop() {
		c.ServeHTTP(httptest.NewRecorder(), r)
	}
}

type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(code int)        { d.code = code }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
