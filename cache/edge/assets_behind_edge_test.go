package edge_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/ladder-go/ladder/cache/assets"
	"github.com/ladder-go/ladder/cache/edge"
)

// The CDN stage end to end: fingerprinted assets (cache/assets) behind the
// edge. A hashed URL is fetched from the origin once and then served from
// the edge for a year; a logical name is revalidated every time and answered
// from the edge's copy on the origin's 304; each content coding is its own
// variant; and after a deploy the edge still serves an old page's URL with
// the old build's bytes.
func TestAssetsBehindEdge(t *testing.T) {
	js := bytes.Repeat([]byte("console.log('build 1');\n"), 40)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(js)
	zw.Close()
	v1 := fstest.MapFS{"app.js": {Data: js}, "app.js.gz": {Data: gz.Bytes()}}
	b1, err := assets.New(v1, assets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b1.Close()

	var originHits atomic.Int64
	var current atomic.Pointer[assets.Assets]
	current.Store(b1)
	origin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		originHits.Add(1)
		current.Load().ServeHTTP(w, r)
	})
	c, err := edge.New(origin, edge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(c)
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	get := func(path, enc string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}

	hashed, _ := b1.URL("app.js")
	// A hashed URL: one origin fetch per coding, then hits.
	for range 3 {
		resp, body := get(hashed, "")
		if resp.StatusCode != 200 || !bytes.Equal(body, js) {
			t.Fatalf("identity: %d, %d bytes", resp.StatusCode, len(body))
		}
		resp, body = get(hashed, "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, gz.Bytes()) {
			t.Fatalf("gzip: encoding %q, %d bytes", resp.Header.Get("Content-Encoding"), len(body))
		}
	}
	if n := originHits.Load(); n != 2 {
		t.Errorf("origin saw %d requests for 6 gets of one hashed URL in two codings, want 2", n)
	}
	resp, _ := get(hashed, "gzip")
	if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "hit") || resp.Header.Get("Age") == "" {
		t.Errorf("hashed URL from the edge: Cache-Status %q, Age %q", cs, resp.Header.Get("Age"))
	}

	// A logical name is no-cache: every request revalidates, and the
	// origin's 304 lets the edge answer with its stored copy.
	originHits.Store(0)
	for range 3 {
		resp, body := get("/assets/app.js", "")
		if resp.StatusCode != 200 || !bytes.Equal(body, js) {
			t.Fatalf("logical: %d, %d bytes", resp.StatusCode, len(body))
		}
	}
	if n := originHits.Load(); n != 3 {
		t.Errorf("origin saw %d requests for 3 gets of a no-cache logical name, want 3 (one each)", n)
	}
	// A client holding the ETag gets 304 from the edge.
	resp, _ = get("/assets/app.js", "")
	if resp, _ := get("/assets/app.js", "", "If-None-Match", resp.Header.Get("ETag")); resp.StatusCode != 304 {
		t.Errorf("conditional logical request: %d, want 304", resp.StatusCode)
	}

	// Deploy build 2, which names build 1 as previous: pages of build 1
	// still ask for the old hashed URL and get build 1's bytes, whether the
	// edge kept them (hit) or not (purged: fetched again from build 2).
	v2 := fstest.MapFS{"app.js": {Data: []byte("console.log('build 2');\n")}}
	m1 := b1.Manifest()
	b2, err := assets.New(v2, assets.Options{Previous: []assets.Build{{Manifest: &m1, FS: v1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	current.Store(b2)
	c.PurgeAll()
	if resp, body := get(hashed, ""); resp.StatusCode != 200 || !bytes.Equal(body, js) {
		t.Errorf("old hashed URL after deploy: %d %q…, want build 1's bytes", resp.StatusCode, body[:min(len(body), 24)])
	}
	newURL, _ := b2.URL("app.js")
	if resp, body := get(newURL, ""); resp.StatusCode != 200 || string(body) != "console.log('build 2');\n" {
		t.Errorf("new hashed URL: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("/assets/app.js", ""); resp.StatusCode != 200 || string(body) != "console.log('build 2');\n" {
		t.Errorf("logical name after deploy (revalidated): %d %q", resp.StatusCode, body)
	}
}
