package edge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// A handler hung past OriginTimeout that ignores its context must not
// answer 504 for its key until it returns: later requests go to the origin
// again (which may well have recovered).
func TestHungOriginDoesNotPoisonKey(t *testing.T) {
	e := newEnv(t, edge.Options{OriginTimeout: 50 * time.Millisecond})
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) }) // before Close, which waits for the handler
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		if e.org.n.Load() == 1 {
			<-stuck // ignores its context
		}
		fixed(e.clk, "recovered", "Cache-Control", "max-age=60")(w, r)
	})
	if w := e.get("http://example.com/hang"); w.Code != 504 {
		t.Fatalf("first request: %d, want 504", w.Code)
	}
	w := e.get("http://example.com/hang")
	if w.Code != 200 || w.Body.String() != "recovered" {
		t.Fatalf("after the timeout: %d %q, want the origin's 200 (origin requests %d)", w.Code, w.Body, e.org.n.Load())
	}
}

// The same for stale-while-revalidate: a background revalidation stuck in
// the origin must not stop later ones once it has timed out.
func TestHungRevalidationDoesNotBlockLaterOnes(t *testing.T) {
	e := newEnv(t, edge.Options{OriginTimeout: 50 * time.Millisecond})
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		if e.org.n.Load() == 2 {
			<-stuck
		}
		fixed(e.clk, "v"+strings.Repeat("x", int(e.org.n.Load())), "Cache-Control", "max-age=1, stale-while-revalidate=600")(w, r)
	})
	e.get("http://example.com/swr")
	e.clk.Advance(5 * time.Second)
	if w := e.get("http://example.com/swr"); w.Code != 200 {
		t.Fatalf("stale hit: %d", w.Code)
	}
	for e.org.n.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // past OriginTimeout (real clock)
	e.get("http://example.com/swr")    // starts a new background revalidation
	for i := 0; e.org.n.Load() < 3; i++ {
		if i > 2000 {
			t.Fatal("no revalidation after the hung one timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// A reverse proxy as origin answers the edge's own timeout (its request's
// context cancelled) with 502. That 502 is the timeout's doing, not the
// origin's: the client gets what a timeout gives (the stale response with
// detail=origin-timeout where stale-if-error allows, else 504), whichever
// the edge sees first. CI's drill with a SIGSTOPped origin saw it as an
// origin error.
func TestProxyOriginsLateBadGatewayIsATimeout(t *testing.T) {
	e := newEnv(t, edge.Options{OriginTimeout: 20 * time.Millisecond})
	proxyLike := func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		w.WriteHeader(http.StatusBadGateway)
	}
	for i := range 25 {
		key := fmt.Sprintf("http://example.com/s%d", i)
		e.org.set(fixed(e.clk, "old", "Cache-Control", "max-age=1, stale-if-error=600"))
		e.get(key)
		e.clk.Advance(5 * time.Second)
		e.org.set(proxyLike)
		w := e.get(key)
		if cs := w.Header().Get("Cache-Status"); w.Code != 200 || w.Body.String() != "old" || !strings.Contains(cs, "detail=origin-timeout") {
			t.Fatalf("round %d, stale-if-error: %d %q, Cache-Status %q; want the stale response for an origin timeout", i, w.Code, w.Body, cs)
		}
		if w := e.get(fmt.Sprintf("http://example.com/new%d", i)); w.Code != http.StatusGatewayTimeout {
			t.Fatalf("round %d, nothing stored: %d, want 504", i, w.Code)
		}
	}
}
