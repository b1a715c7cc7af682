package assets_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

// Names that look like a hashed name but are not one New produced are 404
// (no-store), and a real file whose name looks hashed is a logical name
// like any other: revalidated, with a hashed name of its own.
func TestHashedNameLookalikes(t *testing.T) {
	fsys := fstest.MapFS{
		"app.js":              {Data: []byte("app")},
		"app.deadbeef0000.js": {Data: []byte("looks hashed")},
		"dir.js/x.css":        {Data: []byte("x{}")},
	}
	a := mustNew(t, fsys, assets.Options{})
	h := mustURL(t, a, "app.js") // /assets/app.<12 hex>.js
	digest := strings.TrimSuffix(strings.TrimPrefix(h, "/assets/app."), ".js")
	for _, p := range []string{
		"/assets/app." + strings.ToUpper(digest) + ".js",
		"/assets/app." + digest[:8] + ".js",
		"/assets/app." + digest + "00.js",
		"/assets/app." + digest + "." + digest + ".js",
		"/assets/app.js." + digest,
		"/assets/app." + digest + ".js/",
		"/assets/app." + digest + ".JS",
		"/assets/dir.js",
		"/assets/dir.js/",
		"/assets/",
		"/assets",
		strings.Replace(h, "/assets/", "/assets//", 1),
		strings.Replace(h, "/assets/", "/assets/./", 1),
	} {
		if w := do(a, "GET", p); w.Code != 404 || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d %q", p, w.Code, w.Header().Get("Cache-Control"))
		}
	}
	w := do(a, "GET", "/assets/app.deadbeef0000.js")
	if w.Code != 200 || w.Body.String() != "looks hashed" || w.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("real file with a hashed-looking name: %d %q %q", w.Code, w.Body, w.Header().Get("Cache-Control"))
	}
	if w := do(a, "GET", mustURL(t, a, "app.deadbeef0000.js")); w.Code != 200 || w.Body.String() != "looks hashed" {
		t.Errorf("its hashed name: %d %q", w.Code, w.Body)
	}
}
