package assets_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
)

// discard is a ResponseWriter that keeps one header map, as net/http's
// server reuses per connection, so the benchmark measures the handler.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

func BenchmarkServe(b *testing.B) {
	a := mustNew(b, site(b), assets.Options{})
	for _, c := range []struct {
		name   string
		path   string
		header []string
	}{
		{"hashed-hit", mustURL(b, a, "css/site.css"), nil},
		{"hashed-hit-br", mustURL(b, a, "js/app.js"), []string{"Accept-Encoding", "gzip, deflate, br, zstd"}},
		{"not-modified", mustURL(b, a, "css/site.css"), []string{"If-None-Match", do(a, "GET", mustURL(b, a, "css/site.css")).Header().Get("ETag")}},
		{"not-found", "/assets/nope.js", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", c.path, nil)
			for i := 0; i+1 < len(c.header); i += 2 {
				r.Header.Set(c.header[i], c.header[i+1])
			}
			w := &discard{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				a.ServeHTTP(w, r)
			}
		})
	}
}
