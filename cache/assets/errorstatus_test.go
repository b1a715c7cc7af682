package assets_test

import (
	"compress/gzip"
	"io"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
)

// RFC 9111 §3: a shared cache may store any final response carrying
// "public" or "max-age", whatever its status. A 412 (If-Match that does
// not match) or 416 (unsatisfiable range) sent with the asset's
// "public, max-age=31536000, immutable" would let one hostile request,
// forwarded by a CDN, pin an error on a hashed URL for a year. Error
// responses are no-store and carry none of the 200's validators.
func TestErrorResponsesAreNotCacheable(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	js := mustURL(t, a, "js/app.js")
	css := mustURL(t, a, "css/site.css")
	cases := []struct {
		name, target string
		header       []string
		want         int
	}{
		{"§13.1.1 If-Match other tag, hashed", css, []string{"If-Match", `"nope"`}, 412},
		{"§13.1.1 If-Match other tag, logical", "/assets/css/site.css", []string{"If-Match", `"nope"`}, 412},
		{"§13.1.1 If-Match other tag, gzip variant", js, []string{"If-Match", `"nope"`, "Accept-Encoding", "gzip"}, 412},
		{"§13.1.4 If-Unmodified-Since long ago", css, []string{"If-Unmodified-Since", "Mon, 01 Jan 1990 00:00:00 GMT"}, 412},
		{"§14.2 Range unsatisfiable", css, []string{"Range", "bytes=1000-"}, 416},
		{"§14.2 Range unsatisfiable, gzip variant", js, []string{"Range", "bytes=100000-", "Accept-Encoding", "gzip"}, 416},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(a, "GET", c.target, c.header...)
			h := w.Header()
			if w.Code != c.want {
				t.Fatalf("status %d, want %d", w.Code, c.want)
			}
			if cc := h.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%d with Cache-Control %q: a shared cache may store it", w.Code, cc)
			}
			if ce := h.Get("Content-Encoding"); ce != "" {
				t.Errorf("%d with Content-Encoding %q over a plain body", w.Code, ce)
			}
		})
	}
}

// Same as above with GODEBUG=httpservecontentkeepheaders=1, an operator
// setting that makes http.ServeContent keep the 200's headers on its
// errors (the pre-Go 1.23 behaviour).
func TestErrorResponsesNotCacheableWithKeepHeaders(t *testing.T) {
	t.Setenv("GODEBUG", "httpservecontentkeepheaders=1")
	a := mustNew(t, site(t), assets.Options{})
	js := mustURL(t, a, "js/app.js")
	w := do(a, "GET", js, "Range", "bytes=100000-", "Accept-Encoding", "gzip")
	if w.Code != 416 || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Encoding") != "" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}

// RFC 9110 §8.4: Content-Encoding names the codings applied to the
// content, so a client decodes the whole body with it. A multipart/
// byteranges body is not a gzip stream: several ranges of an encoded
// variant must not come back as multipart under "Content-Encoding: gzip"
// (the server may ignore the Range, §14.2, and send the whole variant).
func TestMultipleRangesOfEncodedVariantDecode(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	js := mustURL(t, a, "js/app.js")
	for _, rng := range []string{"bytes=0-1,4-5", "bytes=0-1,0-1", "bytes=-5,0-3"} {
		t.Run(rng, func(t *testing.T) {
			w := do(a, "GET", js, "Accept-Encoding", "gzip", "Range", rng)
			if w.Header().Get("Content-Encoding") != "gzip" {
				if strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/") || w.Code == 206 {
					return // ranges of the identity bytes are fine
				}
				t.Fatalf("%d %v", w.Code, w.Header())
			}
			if strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/") {
				t.Fatalf("%d multipart body under Content-Encoding: gzip", w.Code)
			}
			zr, err := gzip.NewReader(w.Body)
			if err != nil {
				t.Fatalf("%d: body does not decode as gzip: %v", w.Code, err)
			}
			if _, err := io.ReadAll(zr); err != nil && w.Code == 200 {
				t.Fatalf("200 gzip body: %v", err)
			}
		})
	}
}

// RFC 9110 §13.1.5 and §8.8.2.2: If-Range with a date holds only when
// Last-Modified is a strong validator. The identity, gzip and br bytes of
// an asset share one Last-Modified, so for an asset with variants a date
// cannot tell them apart: a client holding the first bytes of the identity
// body that now asks with gzip must get the whole gzip body, never a 206
// of gzip bytes to splice onto identity bytes. Entity tags still work.
func TestIfRangeDateOnAssetWithVariants(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	js := mustURL(t, a, "js/app.js")
	first := do(a, "GET", js)
	lm := first.Header().Get("Last-Modified")
	if w := do(a, "GET", js, "Accept-Encoding", "gzip", "Range", "bytes=4-", "If-Range", lm); w.Code != 200 || w.Header().Get("Content-Encoding") != "gzip" {
		t.Errorf("If-Range date, gzip: %d %v", w.Code, w.Header())
	}
	gzTag := do(a, "GET", js, "Accept-Encoding", "gzip").Header().Get("ETag")
	if w := do(a, "GET", js, "Accept-Encoding", "gzip", "Range", "bytes=4-", "If-Range", gzTag); w.Code != 206 {
		t.Errorf("If-Range gzip tag: %d", w.Code)
	}
	if w := do(a, "GET", js, "Accept-Encoding", "gzip", "Range", "bytes=4-", "If-Range", first.Header().Get("ETag")); w.Code != 200 {
		t.Errorf("If-Range identity tag on gzip: %d", w.Code)
	}
	// Without variants the date is the file's and stays usable.
	css := mustURL(t, a, "css/site.css")
	if w := do(a, "GET", css, "Range", "bytes=4-", "If-Range", do(a, "GET", css).Header().Get("Last-Modified")); w.Code != 206 {
		t.Errorf("If-Range date without variants: %d", w.Code)
	}
}
