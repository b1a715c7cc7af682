package assets_test

import (
	"net/http"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ladder-go/ladder/cache/assets"
)

// A logical name's bytes change from build to build while file times need
// not move forward: a rollback redeploys an older build (older mtimes),
// and reproducible builds give every build one fixed mtime
// (SOURCE_DATE_EPOCH, nix's 1970-01-01T00:00:01, Bazel's 2000-01-01). A
// client or cache revalidating with If-Modified-Since alone (RFC 9111
// §4.3.1 allows it) must then get the serving build's bytes, never a 304
// that keeps the other build's script under the logical name. The strong
// ETag is the logical name's validator; hashed names, whose bytes never
// change, keep Last-Modified.
func TestLogicalNameIfModifiedSinceAcrossBuilds(t *testing.T) {
	t1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	fixed := time.Unix(1, 0)
	cases := []struct {
		name               string
		served, seen       time.Time // mtimes of the serving build and of the build the client saw
		servedBy, seenFrom string
	}{
		{"rollback to an older build", t1, t2, "v1", "v2"},
		{"reproducible builds, nix mtime", fixed, fixed, "v2", "v1"},
		{"reproducible builds, SOURCE_DATE_EPOCH", t1, t1, "v2", "v1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen := mustNew(t, fstest.MapFS{"app.js": {Data: []byte(c.seenFrom), ModTime: c.seen}}, assets.Options{})
			serving := mustNew(t, fstest.MapFS{"app.js": {Data: []byte(c.servedBy), ModTime: c.served}}, assets.Options{})
			lm := do(seen, "GET", "/assets/app.js").Header().Get("Last-Modified")
			if lm == "" {
				lm = c.seen.Format(http.TimeFormat)
			}
			w := do(serving, "GET", "/assets/app.js", "If-Modified-Since", lm)
			if w.Code != 200 || w.Body.String() != c.servedBy {
				t.Fatalf("If-Modified-Since %s: %d %q, want 200 %q", lm, w.Code, w.Body, c.servedBy)
			}
			// The same with If-Range: a date never splices two builds.
			w = do(serving, "GET", "/assets/app.js", "Range", "bytes=1-", "If-Range", lm)
			if w.Code != 200 || w.Body.String() != c.servedBy {
				t.Fatalf("If-Range %s: %d %q", lm, w.Code, w.Body)
			}
			// The ETag still revalidates; the hashed name keeps its date.
			etag := do(serving, "GET", "/assets/app.js").Header().Get("ETag")
			if w := do(serving, "GET", "/assets/app.js", "If-None-Match", etag); w.Code != 304 {
				t.Errorf("If-None-Match: %d", w.Code)
			}
			h := mustURL(t, serving, "app.js")
			hlm := do(serving, "GET", h).Header().Get("Last-Modified")
			if w := do(serving, "GET", h, "If-Modified-Since", hlm); hlm == "" || w.Code != 304 {
				t.Errorf("hashed name: Last-Modified %q, IMS → %d", hlm, w.Code)
			}
		})
	}
}
