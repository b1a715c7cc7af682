package edge_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// Close during a fill ends it: the clients reading it are answered (a cut
// or a 504, never a hang), nothing is stored, Close returns, and no
// goroutine is left (goleak in TestMain).
func TestCloseDuringFill(t *testing.T) {
	e := newEnv(t, edge.Options{})
	started := make(chan struct{})
	var once sync.Once
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		if r.URL.Path == "/body" {
			io.WriteString(w, "part")
			w.(http.Flusher).Flush()
		}
		once.Do(func() { close(started) })
		<-r.Context().Done()
	})
	var wg sync.WaitGroup
	for _, p := range []string{"/header", "/body"} {
		for range 3 {
			wg.Go(func() {
				w, cut := serve(e.c, "http://example.com"+p)
				if p == "/header" && w.Code != 504 || p == "/body" && !cut {
					t.Errorf("%s: %d cut %v", p, w.Code, cut)
				}
			})
		}
	}
	<-started
	for e.org.n.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond) // let the followers join (either way is a pass)
	if err := e.c.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if s := e.c.Stats(); s.StoredObjects != 0 {
		t.Fatalf("stored %d", s.StoredObjects)
	}
	// After Close the cache passes requests through.
	e.org.set(fixed(e.clk, "after", "Cache-Control", "max-age=60"))
	if w := e.get("http://example.com/x"); w.Body.String() != "after" {
		t.Fatalf("after Close: %q", w.Body)
	}
}
