package edge_test

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// Once a URL's response is known not to be shareable (private, no-store,
// Set-Cookie), a later request for it goes to the origin at once instead of
// queueing behind another client's request (Varnish's hit-for-miss): an
// uncacheable API under load must not have every request wait for another
// one's origin round trip first.
func TestUncacheableNotSerialized(t *testing.T) {
	e := newEnv(t, edge.Options{})
	var hold atomic.Bool
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		if hold.Load() && r.Header.Get("X-Client") == "a" {
			<-release
		}
		w.Header().Set("Cache-Control", "private, max-age=60")
		io.WriteString(w, "for "+r.Header.Get("X-Client"))
	})
	e.get("http://example.com/api/me", "X-Client", "first") // learns the response is private
	hold.Store(true)
	done := make(chan struct{})
	go func() { defer close(done); e.get("http://example.com/api/me", "X-Client", "a") }()
	for e.org.n.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// b must reach the origin while a's request is still there.
	bDone := make(chan string)
	go func() { bDone <- e.get("http://example.com/api/me", "X-Client", "b").Body.String() }()
	select {
	case body := <-bDone:
		if body != "for b" {
			t.Fatalf("b got %q", body)
		}
	case <-time.After(5 * time.Second):
		close(release)
		<-done
		<-bDone
		t.Fatal("b waited for a's origin request before going to the origin itself")
	}
	close(release)
	<-done
	// When the URL becomes cacheable again, it is stored at once.
	e.org.set(fixed(e.clk, "public now", "Cache-Control", "max-age=60"))
	e.get("http://example.com/api/me")
	n := e.org.n.Load()
	if w := e.get("http://example.com/api/me"); w.Body.String() != "public now" || e.org.n.Load() != n {
		t.Fatalf("not stored once cacheable: %q %q", w.Body, w.Header().Get("Cache-Status"))
	}
}

// Hit-for-miss marks are not stored objects: a client requesting many
// distinct URLs the origin answers privately (a login redirect with
// Set-Cookie on every path) must not evict what the cache holds.
func TestHitForMissDoesNotEvictObjects(t *testing.T) {
	e := newEnv(t, edge.Options{MaxBytes: 64 << 10})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keep" {
			w.Header().Set("Cache-Control", "max-age=600")
		} else {
			w.Header().Set("Set-Cookie", "session=new")
			w.Header().Set("Cache-Control", "max-age=600")
		}
		io.WriteString(w, "x")
	})
	e.get("http://example.com/keep")
	for i := range 5000 {
		e.get("http://example.com/login-" + strconv.Itoa(i))
	}
	n := e.org.n.Load()
	e.get("http://example.com/keep")
	if e.org.n.Load() != n {
		t.Fatal("the stored object was evicted by hit-for-miss marks")
	}
}
