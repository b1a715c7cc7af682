package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ladder-go/ladder/cache/assets"
	"go.opentelemetry.io/otel/metric"
)

// assetFS is a small build: one 20 KB script, as a page would load.
func assetFS() fstest.MapFS {
	return fstest.MapFS{"js/app.js": {Data: bytes.Repeat([]byte("console.log('ladder');\n"), 900), ModTime: time.Unix(1e9, 0)}}
}

func newAssets(b *testing.B, mp metric.MeterProvider) *assets.Assets {
	a, err := assets.New(assetFS(), assets.Options{MeterProvider: mp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = a.Close() })
	return a
}

// BenchmarkAssets serves one script from memory: ladder's hashed URL
// against net/http's FileServerFS over the same fs.FS (hashfs is the named
// anchor, but its module is not on the proxy here; FileServerFS is what
// hashfs hands each request to). "hit" is a full 200; "not-modified" a
// revalidation (ladder by ETag, FileServer by If-Modified-Since, each
// its usual validator).
func BenchmarkAssets(b *testing.B) {
	a := newAssets(b, nil)
	u, err := a.URL("js/app.js")
	if err != nil {
		b.Fatal(err)
	}
	etag := func() string {
		w := httptest.NewRecorder()
		a.ServeHTTP(w, httptest.NewRequest("GET", u, nil))
		return w.Header().Get("ETag")
	}()
	fileServer := http.StripPrefix("/assets/", http.FileServerFS(assetFS()))
	cases := []struct {
		name string
		h    http.Handler
		path string
		k, v string
	}{
		{"ladder-hit", a, u, "", ""},
		{"fileserver-hit", fileServer, "/assets/js/app.js", "", ""},
		{"ladder-not-modified", a, u, "If-None-Match", etag},
		{"fileserver-not-modified", fileServer, "/assets/js/app.js", "If-Modified-Since", time.Unix(1e9, 0).UTC().Format(http.TimeFormat)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest("GET", c.path, nil)
			if c.k != "" {
				r.Header.Set(c.k, c.v)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				c.h.ServeHTTP(w, r)
			}
		})
	}
}

// telemetryAssets is BenchmarkTelemetry's assets-hit path.
func telemetryAssets(b *testing.B, mp metric.MeterProvider) func(int) {
	a := newAssets(b, mp)
	u, err := a.URL("js/app.js")
	if err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", u, nil)
	w := &discardWriter{h: http.Header{}}
	return func(int) {
		clear(w.h)
		a.ServeHTTP(w, r)
	}
}
