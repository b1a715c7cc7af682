package assets_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
)

// appJS is large enough that its gzip is smaller than it.
var appJS = bytes.Repeat([]byte("console.log('ladder');\n"), 40)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// site is a small build: a script with .br and .gz siblings, a stylesheet,
// a file without extension, a nested image.
func site(t testing.TB) fstest.MapFS {
	return fstest.MapFS{
		"js/app.js":      {Data: appJS},
		"js/app.js.br":   {Data: []byte("fake brotli bytes")}, // never decoded by the server
		"js/app.js.gz":   {Data: gz(t, appJS)},
		"css/site.css":   {Data: []byte("body{color:red}")},
		"LICENSE":        {Data: []byte("Permission is hereby granted, free of charge")},
		"img/logo.png":   {Data: []byte("\x89PNG\r\n\x1a\n0000")},
		"data/blob":      {Data: []byte("\x89PNG\r\n\x1a\nsniffed")},
		".env":           {Data: []byte("SECRET=1")},
		".git/config":    {Data: []byte("[core]")},
		"fonts/a b.woff": {Data: []byte("wOFF")},
	}
}

func mustNew(t testing.TB, fsys fstest.MapFS, o assets.Options) *assets.Assets {
	t.Helper()
	a, err := assets.New(fsys, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func mustURL(t testing.TB, a *assets.Assets, name string) string {
	t.Helper()
	u, err := a.URL(name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// do runs one request through h, with header pairs "Name", "value", ….
func do(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://example.com/", nil)
	r.URL.Path = target // set decoded, as the server would after parsing
	r.RequestURI = target
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}
