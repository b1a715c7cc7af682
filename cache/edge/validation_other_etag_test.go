package edge_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// RFC 9111 §4.3.4: a 304 naming a strong validator no stored response has
// must not freshen the stored response. The edge fetches the representation
// again without validators and serves (and stores) that, never the old body.
func TestValidation304WithOtherStrongETagRefetches(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(fixed(e.clk, "v1 body", "Cache-Control", "max-age=1", "ETag", `"v1"`))
	if w := e.get("http://example.com/doc"); w.Body.String() != "v1 body" {
		t.Fatalf("first fetch: %q", w.Body.String())
	}
	e.clk.Advance(3 * time.Second)
	var conditional, unconditional int
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", e.clk.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("ETag", `"v2"`)
		if r.Header.Get("If-None-Match") != "" {
			conditional++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		unconditional++
		io.WriteString(w, "v2 body")
	})
	for i := range 2 {
		if w := e.get("http://example.com/doc"); w.Code != 200 || w.Body.String() != "v2 body" {
			t.Fatalf("request %d after the 304 naming \"v2\": %d %q, want the refetched v2 body", i, w.Code, w.Body.String())
		}
	}
	if conditional != 1 || unconditional != 1 {
		t.Errorf("origin saw %d conditional and %d unconditional requests, want 1 and 1 (then a hit)", conditional, unconditional)
	}
	// A 304 naming the stored validator still freshens as before.
	e.clk.Advance(2 * time.Hour)
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", e.clk.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("ETag", `"v2"`)
		w.WriteHeader(http.StatusNotModified)
	})
	if w := e.get("http://example.com/doc"); w.Code != 200 || w.Body.String() != "v2 body" {
		t.Errorf("after a matching 304: %d %q", w.Code, w.Body.String())
	}
}
