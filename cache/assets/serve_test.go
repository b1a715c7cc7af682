package assets_test

import (
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ladder-go/ladder/cache/assets"
)

// Hashed names are immutable for a year; logical names revalidate; both
// carry a strong ETag, Last-Modified, the right Content-Type and nosniff.
func TestServeHeadersByNameKind(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	css := mustURL(t, a, "css/site.css")
	if !regexp.MustCompile(`^/assets/css/site\.[0-9a-f]{12}\.css$`).MatchString(css) {
		t.Fatalf("URL = %q", css)
	}
	cases := []struct {
		name, path, cacheControl, ctype string
		body                            string
	}{
		{"hashed name: RFC 8246 immutable", css, "public, max-age=31536000, immutable", "text/css; charset=utf-8", "body{color:red}"},
		{"logical name: revalidated", "/assets/css/site.css", "no-cache", "text/css; charset=utf-8", "body{color:red}"},
		{"no extension: sniffed type", mustURL(t, a, "data/blob"), "public, max-age=31536000, immutable", "image/png", "\x89PNG\r\n\x1a\nsniffed"},
		{"no extension, text", "/assets/LICENSE", "no-cache", "text/plain; charset=utf-8", "Permission is hereby granted, free of charge"},
		{"escaped name", "/assets/fonts/a b.woff", "no-cache", "font/woff", "wOFF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(a, "GET", c.path)
			h := w.Header()
			if w.Code != 200 || w.Body.String() != c.body {
				t.Fatalf("%d %q", w.Code, w.Body)
			}
			if got := h.Get("Cache-Control"); got != c.cacheControl {
				t.Errorf("Cache-Control %q, want %q", got, c.cacheControl)
			}
			if got := h.Get("Content-Type"); got != c.ctype {
				t.Errorf("Content-Type %q, want %q", got, c.ctype)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if e := h.Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(e) {
				t.Errorf("ETag %q: want strong", e)
			}
			// A MapFS file without ModTime: only hashed names, whose bytes
			// never change, get a Last-Modified (the time of New).
			if _, err := http.ParseTime(h.Get("Last-Modified")); (err == nil) != (c.cacheControl != "no-cache") {
				t.Errorf("Last-Modified %q", h.Get("Last-Modified"))
			}
			if h.Get("Content-Length") != strconv.Itoa(len(c.body)) {
				t.Errorf("Content-Length %q", h.Get("Content-Length"))
			}
		})
	}
	if u := mustURL(t, a, "fonts/a b.woff"); !strings.HasPrefix(u, "/assets/fonts/a%20b.") {
		t.Errorf("URL not escaped: %q", u)
	}
}

func TestServeMethods(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	css := mustURL(t, a, "css/site.css")
	t.Run("HEAD: headers, no body", func(t *testing.T) {
		w := do(a, "HEAD", css)
		if w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != "15" {
			t.Fatalf("%d %q %v", w.Code, w.Body, w.Header())
		}
	})
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"} {
		t.Run(m+": 405 with Allow", func(t *testing.T) {
			w := do(a, m, css)
			if w.Code != 405 || w.Header().Get("Allow") != "GET, HEAD" {
				t.Fatalf("%d Allow=%q", w.Code, w.Header().Get("Allow"))
			}
		})
	}
}

// RFC 9110 §13.1.2 (If-None-Match, weak comparison), §13.1.3
// (If-Modified-Since, only without If-None-Match), §13.1.1 (If-Match,
// strong comparison), §14 (Range), §15.4.5 (304 headers).
func TestServeConditional(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	css := mustURL(t, a, "css/site.css")
	first := do(a, "GET", css)
	etag, lm := first.Header().Get("ETag"), first.Header().Get("Last-Modified")
	lmTime, _ := http.ParseTime(lm)
	before := lmTime.Add(-time.Hour).Format(http.TimeFormat)
	after := lmTime.Add(time.Hour).Format(http.TimeFormat)
	cases := []struct {
		name   string
		path   string
		header []string
		code   int
	}{
		{"§13.1.2 exact etag", css, []string{"If-None-Match", etag}, 304},
		{"§13.1.2 weak form matches (weak comparison)", css, []string{"If-None-Match", "W/" + etag}, 304},
		{"§13.1.2 in a list", css, []string{"If-None-Match", `"x", ` + etag}, 304},
		{"§13.1.2 over two field lines", css, []string{"If-None-Match", `"x"`, "If-None-Match", etag}, 304},
		{"§13.1.2 star", css, []string{"If-None-Match", "*"}, 304},
		{"§13.1.2 other etag", css, []string{"If-None-Match", `"0123"`}, 200},
		{"§13.1.2 unquoted is malformed", css, []string{"If-None-Match", strings.Trim(etag, `"`)}, 200},
		{"§13.1.2 logical name revalidates too", "/assets/css/site.css", []string{"If-None-Match", etag}, 304},
		{"§13.1.3 IMS at Last-Modified", css, []string{"If-Modified-Since", lm}, 304},
		{"§13.1.3 IMS after", css, []string{"If-Modified-Since", after}, 304},
		{"§13.1.3 IMS before", css, []string{"If-Modified-Since", before}, 200},
		{"§13.1.3 IMS malformed", css, []string{"If-Modified-Since", "yesterday"}, 200},
		{"§13.2.2 INM mismatch wins over IMS", css, []string{"If-None-Match", `"x"`, "If-Modified-Since", after}, 200},
		{"§13.1.1 If-Match strong match", css, []string{"If-Match", etag}, 200},
		{"§13.1.1 If-Match weak never matches", css, []string{"If-Match", "W/" + etag}, 412},
		{"§13.1.1 If-Match other", css, []string{"If-Match", `"x"`}, 412},
		{"§13.1.4 If-Unmodified-Since before", css, []string{"If-Unmodified-Since", before}, 412},
		{"§14.2 Range", css, []string{"Range", "bytes=0-3"}, 206},
		{"§14.2 Range unsatisfiable", css, []string{"Range", "bytes=100-"}, 416},
		{"§13.1.5 If-Range other etag: full", css, []string{"Range", "bytes=0-3", "If-Range", `"x"`}, 200},
		{"§13.1.5 If-Range same etag: range", css, []string{"Range", "bytes=0-3", "If-Range", etag}, 206},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(a, "GET", c.path, c.header...)
			if w.Code != c.code {
				t.Fatalf("status %d, want %d", w.Code, c.code)
			}
			h := w.Header()
			switch c.code {
			case 304:
				if w.Body.Len() != 0 || h.Get("ETag") != etag || h.Get("Content-Type") != "" || h.Get("Content-Length") != "" {
					t.Errorf("304: body %d bytes, headers %v", w.Body.Len(), h)
				}
				if h.Get("Cache-Control") == "" {
					t.Error("304 without Cache-Control (§15.4.5: must be sent as in the 200)")
				}
			case 206:
				if w.Body.String() != "body" || h.Get("Content-Range") != "bytes 0-3/15" {
					t.Errorf("206: %q %q", w.Body, h.Get("Content-Range"))
				}
			case 200:
				if w.Body.String() != "body{color:red}" {
					t.Errorf("200 body %q", w.Body)
				}
			}
		})
	}
}

// Integrity is the SRI value of the identity bytes; the manifest agrees
// with what is served.
func TestIntegrityAndManifestMatchServedBytes(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	m := a.Manifest()
	if _, ok := m.Files[".env"]; ok {
		t.Error("dotfile in manifest")
	}
	if _, ok := m.Files[".git/config"]; ok {
		t.Error("file under a dot directory in manifest")
	}
	if _, ok := m.Files["js/app.js.gz"]; ok {
		t.Error("precompressed sibling listed as an asset")
	}
	for logical, e := range m.Files {
		w := do(a, "GET", "/assets/"+e.Name)
		sum := sha512.Sum384(w.Body.Bytes())
		if want := "sha384-" + base64.StdEncoding.EncodeToString(sum[:]); e.Integrity != want {
			t.Errorf("%s: integrity %s, served bytes give %s", logical, e.Integrity, want)
		}
		if got, _ := a.Integrity(logical); got != e.Integrity {
			t.Errorf("%s: Integrity() %s", logical, got)
		}
		if w.Header().Get("ETag") != e.ETag || int64(w.Body.Len()) != e.Size || w.Header().Get("Content-Type") != e.ContentType {
			t.Errorf("%s: manifest %+v, served %v", logical, e, w.Header())
		}
	}
	if got := m.Files["js/app.js"].Encodings; len(got) != 2 || got[0] != "br" || got[1] != "gzip" {
		t.Errorf("encodings %v", got)
	}
}

func TestUnknownNames(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{Prefix: "/static/"})
	for _, p := range []string{"/static/nope.js", "/static/css/site.000000000000.css", "/assets/css/site.css", "/static/", "/static", "/"} {
		w := do(a, "GET", p)
		if w.Code != 404 || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", p, w.Code, w.Header())
		}
	}
	if _, err := a.URL("nope.js"); err == nil || err.Error() != `assets: unknown asset: "nope.js"` {
		t.Errorf("URL: %v", err)
	}
	if _, err := a.Integrity(".env"); err == nil {
		t.Error("Integrity of a dotfile")
	}
}

// RFC 9110 §13.1.3 on a logical name: there is no Last-Modified, dated file
// or not, so an If-Modified-Since alone never keeps a client on another
// build's bytes (see lastmodified_builds_test.go); hashed names have one.
func TestLogicalLastModified(t *testing.T) {
	mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fsys := fstest.MapFS{
		"dated.css":   {Data: []byte("a{}"), ModTime: mod},
		"undated.css": {Data: []byte("b{}")},
		"future.css":  {Data: []byte("c{}"), ModTime: time.Now().Add(240 * time.Hour)},
	}
	a := mustNew(t, fsys, assets.Options{})
	cases := []struct {
		name, path, ims string
		code            int
		lastModified    string
	}{
		{"dated, IMS at mtime", "/assets/dated.css", mod.Format(http.TimeFormat), 200, ""},
		{"dated, IMS before", "/assets/dated.css", mod.Add(-time.Second).Format(http.TimeFormat), 200, ""},
		{"hashed dated, IMS at mtime", mustURL(t, a, "dated.css"), mod.Format(http.TimeFormat), 304, ""},
		{"hashed dated, IMS before", mustURL(t, a, "dated.css"), mod.Add(-time.Second).Format(http.TimeFormat), 200, mod.Format(http.TimeFormat)},
		{"undated, any IMS", "/assets/undated.css", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 200, ""},
		{"hashed undated, IMS now", mustURL(t, a, "undated.css"), time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), 304, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(a, "GET", c.path, "If-Modified-Since", c.ims)
			if w.Code != c.code || w.Header().Get("Last-Modified") != c.lastModified {
				t.Fatalf("%d Last-Modified %q", w.Code, w.Header().Get("Last-Modified"))
			}
		})
	}
	// §8.8.2.1: never a Last-Modified later than the response's Date.
	lm, err := http.ParseTime(do(a, "GET", mustURL(t, a, "future.css")).Header().Get("Last-Modified"))
	if err != nil || lm.After(time.Now()) {
		t.Errorf("future mtime served as %v (%v)", lm, err)
	}
}

// RFC 9110 §13.1.3: a recipient MUST ignore If-Modified-Since when the
// field has more than one member (here two field lines).
func TestIfModifiedSinceWithTwoMembersIgnored(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	css := mustURL(t, a, "css/site.css")
	lm := do(a, "GET", css).Header().Get("Last-Modified")
	if w := do(a, "GET", css, "If-Modified-Since", lm); w.Code != 304 {
		t.Fatalf("one member: %d", w.Code)
	}
	if w := do(a, "GET", css, "If-Modified-Since", lm, "If-Modified-Since", lm); w.Code != 200 {
		t.Errorf("two members: %d, want 200", w.Code)
	}
	if w := do(a, "GET", css, "Range", "bytes=0-3", "If-Modified-Since", lm, "If-Modified-Since", lm); w.Code != 206 {
		t.Errorf("two members, with Range: %d, want 206", w.Code)
	}
}
