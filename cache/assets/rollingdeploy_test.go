package assets_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

func build1(t *testing.T) fstest.MapFS {
	return fstest.MapFS{
		"js/app.js":    {Data: appJS},
		"js/app.js.gz": {Data: gz(t, appJS)},
		"css/site.css": {Data: []byte("body{color:red}")},
		"old.js":       {Data: []byte("removed in build 2")},
	}
}

func build2(t *testing.T) fstest.MapFS {
	js := append(bytes.Clone(appJS), "console.log('v2');\n"...)
	return fstest.MapFS{
		"js/app.js":    {Data: js},
		"js/app.js.gz": {Data: gz(t, js)},
		"css/site.css": {Data: []byte("body{color:red}")}, // unchanged
	}
}

// A page rendered by build 1 asks build 2's server for build-1 hashes
// during a rolling deploy: every one answers 200 with build 1's bytes
// (never build 2's bytes under the old name), immutable, over real HTTP.
func TestRollingDeployServesPreviousBuild(t *testing.T) {
	b1 := mustNew(t, build1(t), assets.Options{})
	var saved bytes.Buffer
	if err := assets.WriteManifest(&saved, b1.Manifest()); err != nil {
		t.Fatal(err)
	}
	m1, err := assets.ReadManifest(&saved)
	if err != nil {
		t.Fatal(err)
	}
	page1 := renderPage(t, b1)

	forms := map[string]assets.Build{
		"manifest and FS": {Manifest: &m1, FS: build1(t)},
		"FS only":         {FS: build1(t)},
	}
	for name, prev := range forms {
		t.Run(name, func(t *testing.T) {
			b2 := mustNew(t, build2(t), assets.Options{Previous: []assets.Build{prev}})
			srv := httptest.NewServer(b2)
			defer srv.Close()
			urls := regexp.MustCompile(`/assets/[^"]+`).FindAllString(page1, -1)
			if len(urls) != 3 {
				t.Fatalf("page 1 links %v", urls)
			}
			for _, u := range urls {
				for _, enc := range []string{"identity", "gzip"} {
					req, _ := http.NewRequest("GET", srv.URL+u, nil)
					req.Header.Set("Accept-Encoding", enc)
					res, err := srv.Client().Transport.RoundTrip(req)
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(res.Body)
					res.Body.Close()
					want := do(b1, "GET", u, "Accept-Encoding", enc)
					if res.StatusCode != 200 || !bytes.Equal(body, want.Body.Bytes()) {
						t.Errorf("%s (%s): %d, body from build 1: %v", u, enc, res.StatusCode, bytes.Equal(body, want.Body.Bytes()))
					}
					if res.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || res.Header.Get("ETag") != want.Header().Get("ETag") {
						t.Errorf("%s: %v", u, res.Header)
					}
				}
			}
			// The logical name means the current build.
			if w := do(b2, "GET", "/assets/js/app.js"); !bytes.HasSuffix(w.Body.Bytes(), []byte("'v2');\n")) {
				t.Error("logical name served build 1")
			}
			if w := do(b2, "GET", "/assets/old.js"); w.Code != 404 {
				t.Errorf("removed file's logical name: %d", w.Code)
			}
			if _, err := b2.URL("old.js"); !errors.Is(err, assets.ErrNotFound) {
				t.Errorf("URL of a removed file: %v", err)
			}
		})
	}
}

// With only a manifest, a previous name is served where its bytes are
// known (the file did not change, or another build holds them) and is a
// logged 404 otherwise: never the current bytes under the old name.
func TestRollingDeployManifestOnly(t *testing.T) {
	b1 := mustNew(t, build1(t), assets.Options{})
	m1 := b1.Manifest()
	var logs bytes.Buffer
	b2 := mustNew(t, build2(t), assets.Options{
		Previous: []assets.Build{{Manifest: &m1}},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	oldCSS, oldJS := mustURL(t, b1, "css/site.css"), mustURL(t, b1, "js/app.js")
	if w := do(b2, "GET", oldCSS); w.Code != 200 {
		t.Errorf("unchanged file: %d", w.Code)
	}
	if w := do(b2, "GET", oldJS); w.Code != 404 {
		t.Errorf("changed file without its bytes: %d, want 404 rather than build 2's bytes", w.Code)
	}
	if !strings.Contains(logs.String(), "count=2") || !strings.Contains(logs.String(), "js/app.") {
		t.Errorf("log: %s", logs.String())
	}

	// Three builds: build 3 keeps build 1's names through build 2's chain.
	m2 := b2.Manifest()
	b3 := mustNew(t, build1(t), assets.Options{Previous: []assets.Build{{Manifest: &m2, FS: build2(t)}, {Manifest: &m1}}})
	for _, u := range []string{oldCSS, oldJS, mustURL(t, b2, "js/app.js")} {
		if w := do(b3, "GET", u); w.Code != 200 {
			t.Errorf("build 3, %s: %d", u, w.Code)
		}
	}
}

func TestPreviousBuildMismatch(t *testing.T) {
	b1 := mustNew(t, build1(t), assets.Options{})
	m1 := b1.Manifest()
	// The manifest says build 1, the FS is build 2.
	_, err := assets.New(build2(t), assets.Options{Previous: []assets.Build{{Manifest: &m1, FS: build2(t)}}})
	if !errors.Is(err, assets.ErrInvalidManifest) {
		t.Fatalf("%v", err)
	}
	// A hashed name that names other bytes (forged here: at 48 bits it
	// will not happen by chance) is refused, not served ambiguously.
	forged := b1.Manifest()
	e := forged.Files["js/app.js"]
	b2 := mustNew(t, build2(t), assets.Options{})
	e.Name = b2.Manifest().Files["js/app.js"].Name
	forged.Files["js/app.js"] = e
	_, err = assets.New(build2(t), assets.Options{Previous: []assets.Build{{Manifest: &forged, FS: build1(t)}}})
	if !errors.Is(err, assets.ErrConflict) {
		t.Fatalf("%v", err)
	}
	// A previous hashed name equal to a current logical name.
	forged = b1.Manifest()
	e = forged.Files["js/app.js"]
	e.Name = "css/site.css"
	forged.Files["js/app.js"] = e
	_, err = assets.New(build2(t), assets.Options{Previous: []assets.Build{{Manifest: &forged, FS: build1(t)}}})
	if !errors.Is(err, assets.ErrConflict) {
		t.Fatalf("%v", err)
	}
}

// A manifest written elsewhere (another machine's /etc/mime.types, another
// Go release: "application/javascript" where this one says
// "text/javascript; charset=utf-8") still names bytes this instance holds:
// with a manifest alone, the previous hashed name is served, with the
// Content-Type this instance gives its extension, not lost to a 404.
func TestRollingDeployManifestFromAnotherMachine(t *testing.T) {
	b1 := mustNew(t, build1(t), assets.Options{DigestLength: 8}) // the old build used shorter digests
	m1 := b1.Manifest()
	for k, e := range m1.Files {
		e.ContentType = map[string]string{".js": "application/javascript", ".css": "text/css"}[path.Ext(k)]
		m1.Files[k] = e
	}
	var logs bytes.Buffer
	b2 := mustNew(t, build1(t), assets.Options{
		Previous: []assets.Build{{Manifest: &m1}},
		Logger:   slog.New(slog.NewTextHandler(&logs, nil)),
	})
	for _, name := range []string{"js/app.js", "css/site.css", "old.js"} {
		old := mustURL(t, b1, name)
		w, want := do(b2, "GET", old, "Accept-Encoding", "gzip"), do(b1, "GET", old, "Accept-Encoding", "gzip")
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want.Body.Bytes()) || w.Header().Get("Content-Type") != want.Header().Get("Content-Type") ||
			w.Header().Get("Content-Encoding") != want.Header().Get("Content-Encoding") {
			t.Errorf("%s: %d %v", old, w.Code, w.Header())
		}
	}
	if logs.Len() != 0 {
		t.Errorf("log: %s", logs.String())
	}
}

// A manifest-only previous name that is one of the current build's hashed
// names but for other bytes (a digest clash, forged here) is refused like
// the same clash with an FS, not served silently with the current bytes.
func TestPreviousManifestOnlyClashRefused(t *testing.T) {
	b1 := mustNew(t, build1(t), assets.Options{})
	b2 := mustNew(t, build2(t), assets.Options{})
	forged := b1.Manifest()
	e := forged.Files["js/app.js"] // build 1's bytes, held by no build below
	e.Name = b2.Manifest().Files["js/app.js"].Name
	forged.Files["js/app.js"] = e
	_, err := assets.New(build2(t), assets.Options{Previous: []assets.Build{{Manifest: &forged}}, Logger: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, assets.ErrConflict) {
		t.Fatalf("%v", err)
	}
}

// Conflicting manifests: two previous names that are one hashed name for
// different bytes are ErrConflict whichever comes first (Previous order,
// map order), also when only one of them has bytes somewhere.
func TestPreviousConflictingManifestsAlwaysRefused(t *testing.T) {
	cur := mustNew(t, build2(t), assets.Options{})
	held := cur.Manifest().Files["css/site.css"] // bytes the current build holds
	unheld := assets.Entry{Name: held.Name, Integrity: "sha384-" + strings.Repeat("A", 64), ContentType: held.ContentType}
	quiet := slog.New(slog.DiscardHandler)
	for i := range 20 {
		one := assets.Manifest{Version: 1, Files: map[string]assets.Entry{"x/a.css": withName(held, "x/a.0123456789ab.css"), "x/b.css": withName(unheld, "x/a.0123456789ab.css")}}
		first := assets.Manifest{Version: 1, Files: map[string]assets.Entry{"x/a.css": withName(unheld, "x/a.0123456789ab.css")}}
		second := assets.Manifest{Version: 1, Files: map[string]assets.Entry{"x/a.css": withName(held, "x/a.0123456789ab.css")}}
		for name, prev := range map[string][]assets.Build{
			"one manifest": {{Manifest: &one}},
			"unheld first": {{Manifest: &first}, {Manifest: &second}},
			"held first":   {{Manifest: &second}, {Manifest: &first}},
		} {
			if _, err := assets.New(build2(t), assets.Options{Previous: prev, Logger: quiet}); !errors.Is(err, assets.ErrConflict) {
				t.Fatalf("run %d, %s: %v", i, name, err)
			}
		}
	}
}

func withName(e assets.Entry, name string) assets.Entry { e.Name = name; return e }
