package assets_test

import (
	"bytes"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

// RFC 9110 §12.5.3 Accept-Encoding, §8.4 Content-Encoding, §12.5.5 Vary.
func TestPrecompressedNegotiation(t *testing.T) {
	fsys := site(t)
	a := mustNew(t, fsys, assets.Options{})
	js := mustURL(t, a, "js/app.js")
	cases := []struct {
		name, accept string // accept "-" means no field
		want         string // "" identity
	}{
		{"no field: identity", "-", ""},
		{"empty field: identity", "", ""},
		{"br preferred on a tie", "gzip, deflate, br", "br"},
		{"br preferred on a tie with zstd", "gzip, deflate, br, zstd", "br"},
		{"gzip only", "gzip", "gzip"},
		{"x-gzip alias", "x-gzip", "gzip"},
		{"case-insensitive", "GZIP", "gzip"},
		{"client q wins over server order", "br;q=0.5, gzip;q=0.9", "gzip"},
		{"q with spaces and capital Q", "br ; Q=0.2 , gzip ; q=0.3", "gzip"},
		{"gzip;q=0 honoured", "gzip;q=0", ""},
		{"br;q=0 leaves gzip", "br;q=0, gzip", "gzip"},
		{"star", "*", "br"},
		{"star with br excluded", "*, br;q=0", "gzip"},
		{"star;q=0 excludes unnamed", "*;q=0, gzip", "gzip"},
		{"identity preferred by q", "br;q=0.5, identity", ""},
		{"identity excluded, br acceptable", "identity;q=0, br", "br"},
		{"nothing acceptable: identity anyway", "identity;q=0, *;q=0", ""},
		{"malformed q ignored", "br;q=2, gzip;q=x, gzip;q=0.8", "gzip"},
		{"q=1.000", "gzip;q=1.000", "gzip"},
		{"q with too many digits is malformed", "br;q=0.0001, gzip", "gzip"},
		{"other parameters ignored", "br;level=3;q=0.7, gzip;q=0.6", "br"},
		{"deflate only: identity", "deflate", ""},
		{"empty elements", ",, ,br,", "br"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var h []string
			if c.accept != "-" {
				h = []string{"Accept-Encoding", c.accept}
			}
			w := do(a, "GET", js, h...)
			if w.Code != 200 {
				t.Fatal(w.Code)
			}
			if got := w.Header().Get("Content-Encoding"); got != c.want {
				t.Fatalf("Content-Encoding %q, want %q", got, c.want)
			}
			if w.Header().Get("Vary") != "Accept-Encoding" {
				t.Error("no Vary: Accept-Encoding")
			}
			want := map[string][]byte{"": appJS, "br": fsys["js/app.js.br"].Data, "gzip": fsys["js/app.js.gz"].Data}[c.want]
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Error("body is not the chosen variant's bytes")
			}
		})
	}
}

// Each representation has its own strong ETag, and a 304 for one variant
// is not a 304 for another (RFC 9110 §8.8.3: a strong validator names
// exact bytes).
func TestVariantsHaveOwnETags(t *testing.T) {
	a := mustNew(t, site(t), assets.Options{})
	js := mustURL(t, a, "js/app.js")
	tags := map[string]string{}
	for _, enc := range []string{"identity", "gzip", "br"} {
		w := do(a, "GET", js, "Accept-Encoding", enc)
		tags[enc] = w.Header().Get("ETag")
	}
	if tags["identity"] == tags["gzip"] || tags["gzip"] == tags["br"] || tags["identity"] == tags["br"] {
		t.Fatalf("shared ETags: %v", tags)
	}
	if w := do(a, "GET", js, "Accept-Encoding", "br", "If-None-Match", tags["br"]); w.Code != 304 || w.Header().Get("Vary") != "Accept-Encoding" {
		t.Errorf("br revalidation: %d, Vary %q", w.Code, w.Header().Get("Vary"))
	}
	if w := do(a, "GET", js, "Accept-Encoding", "gzip", "If-None-Match", tags["br"]); w.Code != 200 {
		t.Errorf("gzip request with br's ETag: %d", w.Code)
	}
	// Ranges apply to the encoded bytes (RFC 9110 §14.1.2).
	w := do(a, "GET", js, "Accept-Encoding", "gzip", "Range", "bytes=0-1")
	if w.Code != 206 || w.Header().Get("Content-Encoding") != "gzip" || w.Body.String() != "\x1f\x8b" {
		t.Errorf("range over gzip: %d %q %q", w.Code, w.Header().Get("Content-Encoding"), w.Body)
	}
	// HEAD: the chosen variant's headers, no body.
	if w := do(a, "HEAD", js, "Accept-Encoding", "br"); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Encoding") != "br" ||
		w.Header().Get("Content-Length") != "17" || w.Header().Get("ETag") != tags["br"] {
		t.Errorf("HEAD br: %d %v", w.Code, w.Header())
	}
	// An asset without variants sends no Vary.
	if v := do(a, "GET", mustURL(t, a, "css/site.css"), "Accept-Encoding", "br").Header().Get("Vary"); v != "" {
		t.Errorf("Vary %q without variants", v)
	}
}

func TestPrecompressedSiblingsChecked(t *testing.T) {
	big := bytes.Repeat([]byte("a"), 1000)
	t.Run("stale .gz fails New", func(t *testing.T) {
		_, err := assets.New(fstest.MapFS{"a.js": {Data: big}, "a.js.gz": {Data: gz(t, []byte("old"))}}, assets.Options{})
		if !errors.Is(err, assets.ErrStaleVariant) || err.Error()[:len("assets: precompressed")] != "assets: precompressed" {
			t.Fatalf("%v", err)
		}
	})
	t.Run("corrupt .gz fails New", func(t *testing.T) {
		_, err := assets.New(fstest.MapFS{"a.js": {Data: big}, "a.js.gz": {Data: []byte("not gzip")}}, assets.Options{})
		if !errors.Is(err, assets.ErrStaleVariant) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("variant no smaller than the file is not served", func(t *testing.T) {
		a := mustNew(t, fstest.MapFS{"a.js": {Data: []byte("x")}, "a.js.br": {Data: []byte("xxxx")}}, assets.Options{})
		w := do(a, "GET", "/assets/a.js", "Accept-Encoding", "br")
		if w.Header().Get("Content-Encoding") != "" || w.Body.String() != "x" {
			t.Fatalf("%v %q", w.Header(), w.Body)
		}
	})
	t.Run("lone .gz is an asset of its own", func(t *testing.T) {
		a := mustNew(t, fstest.MapFS{"dump.gz": {Data: gz(t, big)}}, assets.Options{})
		w := do(a, "GET", "/assets/dump.gz", "Accept-Encoding", "gzip")
		if w.Code != 200 || w.Header().Get("Content-Encoding") != "" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
	})
}
