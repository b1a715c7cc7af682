package edge_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"

	"github.com/ladder-go/ladder/cache/edge"
)

// A client varying a request field a response varies on (random
// Accept-Language values) must not fill the cache with variants of one
// URL: the variants stored per URL are bounded (Traffic Server's
// max_alts), so one hot URL cannot evict every other object.
func TestVariantsPerURLBounded(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		io.WriteString(w, "for "+r.Header.Get("Accept-Language"))
	})
	// Another URL stored first must survive the flood.
	e.get("http://example.com/other")
	const n = 500
	for i := range n {
		e.get("http://example.com/v", "Accept-Language", "x-"+strconv.Itoa(i))
	}
	if got := e.c.Stats().StoredObjects; got > 32+1 {
		t.Fatalf("stored objects %d after %d variants of one URL, want ≤ %d", got, n, 32+1)
	}
	// The latest variant is stored and served.
	before := e.org.n.Load()
	if w := e.get("http://example.com/v", "Accept-Language", "x-"+strconv.Itoa(n-1)); w.Body.String() != "for x-499" || e.org.n.Load() != before {
		t.Fatalf("latest variant: %q, origin requests %d → %d", w.Body, before, e.org.n.Load())
	}
	if e.get("http://example.com/other"); e.org.n.Load() != before {
		t.Fatal("another URL's object was evicted by the variants")
	}
	// MaxVariants bounds it.
	e2 := newEnv(t, edge.Options{MaxVariants: 2})
	e2.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		io.WriteString(w, "x")
	})
	for i := range 10 {
		e2.get("http://example.com/v", "Accept-Language", strconv.Itoa(i))
	}
	if got := e2.c.Stats().StoredObjects; got != 2 {
		t.Fatalf("MaxVariants 2: stored %d", got)
	}
	if _, err := edge.New(e.org, edge.Options{MaxVariants: -1}); err == nil {
		t.Fatal("MaxVariants -1 accepted")
	}
}
