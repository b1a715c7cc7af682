package edge_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
)

// confGate is an origin that counts requests and holds each until release
// is closed.
type confGate struct {
	calls, conditional atomic.Int64
	release            chan struct{}
	header             []string
}

func (g *confGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	if r.Header.Get("If-None-Match") != "" {
		g.conditional.Add(1)
	}
	<-g.release
	for i := 0; i+1 < len(g.header); i += 2 {
		w.Header().Set(g.header[i], g.header[i+1])
	}
	if r.Header.Get("If-None-Match") == `"v1"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write([]byte("body"))
}

// confWait polls cond (real time, bounded) and reports whether it held.
func confWait(cond func() bool) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// confParallel sends n GETs for url at once and returns their recorders.
func confParallel(c http.Handler, n int, url string) []*httptest.ResponseRecorder {
	recs := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.ServeHTTP(recs[i], httptest.NewRequest(http.MethodGet, url, nil))
		}()
	}
	wg.Wait()
	return recs
}

// TestConformanceCollapsedMisses: N concurrent misses for one key reach the
// origin once; every client gets the whole body (issue 15: "concurrent misses
// for one key collapse into one origin request").
func TestConformanceCollapsedMisses(t *testing.T) {
	const n = 16
	clock := edgetest.NewClock(edgetest.Start)
	g := &confGate{release: make(chan struct{}), header: []string{"Cache-Control", "max-age=60"}}
	c, err := edge.New(g, edge.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan []*httptest.ResponseRecorder)
	go func() { done <- confParallel(c, n, "http://example.test/collapse") }()
	// Release the origin once every follower has joined the leader's fill (or
	// after a bounded wait, when the cache does not collapse).
	joined := confWait(func() bool { return c.Stats().Collapsed >= n-1 })
	close(g.release)
	recs := <-done
	if !joined {
		t.Errorf("Stats().Collapsed = %d, want %d joined followers", c.Stats().Collapsed, n-1)
	}
	if got := g.calls.Load(); got != 1 {
		t.Errorf("origin requests = %d, want 1", got)
	}
	for i, rec := range recs {
		if rec.Code != 200 || rec.Body.String() != "body" {
			t.Errorf("client %d: %d %q", i, rec.Code, rec.Body.String())
		}
		if rec.Header().Get("Cache-Status") == "" {
			t.Errorf("client %d: no Cache-Status", i)
		}
	}
}

// TestConformanceCollapsedRevalidation: N concurrent requests for one stale
// key send one conditional request (issue 15: "… and one revalidation").
func TestConformanceCollapsedRevalidation(t *testing.T) {
	const n = 16
	clock := edgetest.NewClock(edgetest.Start)
	g := &confGate{release: make(chan struct{}), header: []string{"Cache-Control", "max-age=1", "ETag", `"v1"`}}
	close(g.release) // the first fill goes straight through
	c, err := edge.New(g, edge.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://example.test/reval", nil))
	clock.Advance(3 * time.Second)
	g.release = make(chan struct{})
	before := c.Stats().Collapsed
	done := make(chan []*httptest.ResponseRecorder)
	go func() { done <- confParallel(c, n, "http://example.test/reval") }()
	joined := confWait(func() bool { return c.Stats().Collapsed-before >= n-1 })
	close(g.release)
	recs := <-done
	if !joined {
		t.Errorf("Stats().Collapsed rose by %d, want %d", c.Stats().Collapsed-before, n-1)
	}
	if calls, cond := g.calls.Load(), g.conditional.Load(); calls != 2 || cond != 1 {
		t.Errorf("origin requests = %d (%d conditional), want 2 (1 conditional)", calls, cond)
	}
	for i, rec := range recs {
		if rec.Code != 200 || rec.Body.String() != "body" {
			t.Errorf("client %d: %d %q", i, rec.Code, rec.Body.String())
		}
	}
}

// TestConformanceOneBackgroundRevalidation: with stale-while-revalidate, N
// concurrent requests for a stale key are all answered at once from the
// stored response while a single background request refreshes it (RFC 5861
// §3; issue 15: "refreshed once in the background").
func TestConformanceOneBackgroundRevalidation(t *testing.T) {
	const n = 16
	clock := edgetest.NewClock(edgetest.Start)
	g := &confGate{release: make(chan struct{}), header: []string{"Cache-Control", "max-age=1, stale-while-revalidate=60", "ETag", `"v1"`}}
	close(g.release)
	c, err := edge.New(g, edge.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://example.test/swr", nil))
	clock.Advance(3 * time.Second)
	g.release = make(chan struct{}) // the background revalidation hangs until released
	recs := confParallel(c, n, "http://example.test/swr")
	for i, rec := range recs {
		if rec.Code != 200 || rec.Body.String() != "body" {
			t.Errorf("client %d: %d %q (want the stale body at once)", i, rec.Code, rec.Body.String())
		}
	}
	if !confWait(func() bool { return g.calls.Load() >= 2 }) {
		t.Errorf("no background revalidation reached the origin")
	}
	close(g.release)
	if err := c.Close(); err != nil { // waits for the background revalidation
		t.Fatal(err)
	}
	if calls, cond := g.calls.Load(), g.conditional.Load(); calls != 2 || cond != 1 {
		t.Errorf("origin requests = %d (%d conditional), want 2 (1 conditional background revalidation)", calls, cond)
	}
}
