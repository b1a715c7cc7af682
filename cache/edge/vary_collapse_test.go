package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// Many clients collapse on the first fill of a URL not yet known to vary;
// the response says Vary: Accept-Encoding and half of them asked for
// another coding. Those are released, and collapse again among themselves
// on their own variant: one more origin request, not one per client, and
// that variant is stored too.
func TestReleasedVariantFollowersCollapse(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		io.WriteString(w, "coded "+r.Header.Get("Accept-Encoding"))
	})
	const n = 100
	var wg sync.WaitGroup
	res := make([]*httptest.ResponseRecorder, n)
	ae := func(i int) string {
		if i%2 == 0 {
			return "gzip"
		}
		return "br"
	}
	for i := range n {
		wg.Go(func() { res[i] = e.get("http://example.com/app.js", "Accept-Encoding", ae(i)) })
		if i == 0 {
			for e.c.Stats().Misses < 1 {
				time.Sleep(time.Millisecond)
			}
		}
	}
	for e.c.Stats().Collapsed < n-1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, w := range res {
		if w.Body.String() != "coded "+ae(i) {
			t.Fatalf("client %d (%s) got %q", i, ae(i), w.Body)
		}
	}
	if got := e.org.n.Load(); got != 2 {
		t.Fatalf("origin requests %d, want 2 (one per variant)", got)
	}
	e.get("http://example.com/app.js", "Accept-Encoding", "br")
	e.get("http://example.com/app.js", "Accept-Encoding", "gzip")
	if got := e.org.n.Load(); got != 2 {
		t.Fatalf("after: origin requests %d, want 2 (both variants stored)", got)
	}
}
