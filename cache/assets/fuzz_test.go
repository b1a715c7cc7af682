package assets_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/cache/assets"
)

// FuzzServePath: any request path is a 404 unless it is exactly a served
// name, and never returns bytes from outside the FS.
func FuzzServePath(f *testing.F) {
	a, _ := publicDir(f)
	hashed := mustURL(f, a, "js/app.js")
	for _, s := range []string{"/assets/js/app.js", hashed, "/assets/../secret.txt", "/assets/..%2fsecret.txt",
		"/assets/link.js", "/assets/up/secret.txt", "/assets/.env", "/assets/js/app.js\x00", "/assets/\\..\\secret.txt", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.Path = p
		w := httptest.NewRecorder()
		a.ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), secret) {
			t.Fatalf("%q served the secret", p)
		}
		served := p == "/assets/js/app.js" || p == hashed
		if served != (w.Code == 200) || !served && w.Code != 404 {
			t.Fatalf("%q: %d", p, w.Code)
		}
	})
}

// FuzzReadManifest: any input is a manifest whose names are all clean
// relative paths, or an ErrInvalidManifest; never a panic. A manifest it
// accepts round-trips.
func FuzzReadManifest(f *testing.F) {
	a := mustNew(f, site(f), assets.Options{})
	var good bytes.Buffer
	if err := assets.WriteManifest(&good, a.Manifest()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.String())
	f.Add(`{"version":1,"files":{"../x":{"name":"x","integrity":"sha384-a"}}}`)
	f.Add(`{"version":1,"files":{"x":{"name":"/etc/passwd","integrity":"sha384-a"}}}`)
	f.Add(`{"version":1,"files":{"x":{"name":"a\\..\\b","integrity":"sha384-a"}}}`)
	f.Add(`{"version":2}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := assets.ReadManifest(strings.NewReader(s))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "assets: invalid manifest") {
				t.Fatalf("%v", err)
			}
			return
		}
		for k, e := range m.Files {
			for _, n := range []string{k, e.Name} {
				if strings.HasPrefix(n, "/") || strings.Contains(n, "\\") || strings.Contains(n, "\x00") ||
					n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.HasSuffix(n, "/..") {
					t.Fatalf("accepted name %q", n)
				}
			}
		}
		var buf bytes.Buffer
		if err := assets.WriteManifest(&buf, m); err != nil {
			t.Fatal(err)
		}
		if _, err := assets.ReadManifest(&buf); err != nil {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzServeHeaders: whatever Accept-Encoding, If-None-Match, Range,
// If-Modified-Since and If-Range say, a 200 carries exactly the bytes of
// the coding it names, with Vary; a single-range 206 carries a slice of
// them; a multipart 206 is never under a Content-Encoding; an error is
// no-store; and nothing panics.
func FuzzServeHeaders(f *testing.F) {
	fsys := site(f)
	a := mustNew(f, fsys, assets.Options{})
	js := mustURL(f, a, "js/app.js")
	lm := do(a, "GET", js).Header().Get("Last-Modified")
	f.Add("gzip, br", `"x"`, "", "", "")
	f.Add("br;q=0, gzip;q=0.5", "*", "bytes=0-1", "", "")
	f.Add("*;q=0", `W/"a", "b"`, "bytes=-5", "Mon, 02 Jan 2006 15:04:05 GMT", "")
	f.Add("gzip", "", "bytes=0-1,4-5", "", "")
	f.Add("br", "", "bytes=3-", "", lm)
	f.Add("gzip", "", "bytes=1000-", "", `"x"`)
	f.Fuzz(func(t *testing.T, accept, inm, rng, ims, ifRange string) {
		var h []string
		for _, kv := range [][2]string{{"Accept-Encoding", accept}, {"If-None-Match", inm}, {"Range", rng}, {"If-Modified-Since", ims}, {"If-Range", ifRange}} {
			if kv[1] != "" {
				h = append(h, kv[0], kv[1])
			}
		}
		w := do(a, "GET", js, h...)
		ce := w.Header().Get("Content-Encoding")
		if w.Header().Get("Vary") != "Accept-Encoding" && w.Code < 400 {
			t.Fatalf("%d without Vary", w.Code)
		}
		if w.Code >= 400 && (w.Header().Get("Cache-Control") != "no-store" || ce != "") {
			t.Fatalf("%d: %v", w.Code, w.Header())
		}
		want := map[string][]byte{"": appJS, "gzip": fsys["js/app.js.gz"].Data, "br": fsys["js/app.js.br"].Data}[ce]
		switch w.Code {
		case 200:
			if !bytes.Equal(w.Body.Bytes(), want) {
				t.Fatalf("200 with Content-Encoding %q and other bytes", ce)
			}
		case 206:
			if strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/") {
				if ce != "" {
					t.Fatalf("multipart 206 under Content-Encoding %q", ce)
				}
				return
			}
			var first, last, size int
			if _, err := fmt.Sscanf(w.Header().Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &size); err != nil ||
				size != len(want) || !bytes.Equal(w.Body.Bytes(), want[first:last+1]) {
				t.Fatalf("206 %q with Content-Encoding %q and other bytes", w.Header().Get("Content-Range"), ce)
			}
		}
	})
}
