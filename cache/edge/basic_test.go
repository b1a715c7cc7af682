package edge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

func TestMissThenHit(t *testing.T) {
	e := newEnv(t, edge.Options{})
	w := e.get("http://example.com/a")
	if w.Code != 200 || w.Body.String() != "hello" {
		t.Fatalf("miss: %d %q", w.Code, w.Body)
	}
	if cs := w.Header().Get("Cache-Status"); !strings.HasPrefix(cs, "ladder; fwd=uri-miss; fwd-status=200; stored") {
		t.Fatalf("miss Cache-Status %q", cs)
	}
	e.clk.Advance(10 * time.Second)
	w = e.get("http://EXAMPLE.com:80/a")
	if w.Code != 200 || w.Body.String() != "hello" || e.org.n.Load() != 1 {
		t.Fatalf("hit: %d %q, origin requests %d", w.Code, w.Body, e.org.n.Load())
	}
	if cs := w.Header().Get("Cache-Status"); cs != "ladder; hit; ttl=50" {
		t.Fatalf("hit Cache-Status %q", cs)
	}
	if age := w.Header().Get("Age"); age != "10" {
		t.Fatalf("Age %q, want 10", age)
	}
	st := e.c.Stats()
	if st.Hits != 1 || st.Misses != 1 || st.StoredObjects != 1 {
		t.Fatalf("stats %+v", st)
	}
}
