package edge_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// gate is an origin that blocks every response until released.
func gated(clk *clock, release <-chan struct{}, hdr ...string) func(http.ResponseWriter, *http.Request) {
	inner := fixed(clk, "collapsed body", hdr...)
	return func(w http.ResponseWriter, r *http.Request) {
		<-release
		inner(w, r)
	}
}

func TestCollapsedMisses(t *testing.T) {
	const n = 1000
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(gated(e.clk, release, "Cache-Control", "max-age=60"))
	var wg sync.WaitGroup
	results := make([]*httptest.ResponseRecorder, n)
	for i := range n {
		wg.Go(func() { results[i] = e.get("http://example.com/hot") })
	}
	// Let the goroutines reach the cache, then let the origin answer.
	for e.c.Stats().Collapsed+e.c.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if got := e.org.n.Load(); got != 1 {
		t.Fatalf("origin requests %d, want 1", got)
	}
	collapsed := 0
	for _, w := range results {
		if w.Code != 200 || w.Body.String() != "collapsed body" {
			t.Fatalf("%d %q", w.Code, w.Body)
		}
		if strings.Contains(w.Header().Get("Cache-Status"), "collapsed") {
			collapsed++
		}
	}
	if collapsed != n-1 {
		t.Fatalf("collapsed %d, want %d", collapsed, n-1)
	}
}

func TestCollapsedPrivateReleasesFollowers(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-User") == "leader" {
			<-release
		}
		w.Header().Set("Cache-Control", "private, max-age=60")
		io.WriteString(w, "for "+r.Header.Get("X-User"))
	})
	var wg sync.WaitGroup
	var lead *httptest.ResponseRecorder
	wg.Go(func() { lead = e.get("http://example.com/me", "X-User", "leader") })
	for e.org.n.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	const followers = 20
	got := make([]*httptest.ResponseRecorder, followers)
	for i := range followers {
		wg.Go(func() { got[i] = e.get("http://example.com/me", "X-User", "follower") })
	}
	for e.c.Stats().Collapsed < followers {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if lead.Body.String() != "for leader" {
		t.Fatalf("leader got %q", lead.Body)
	}
	for _, w := range got {
		if w.Body.String() != "for follower" {
			t.Fatalf("a follower got %q: another client's private response", w.Body)
		}
	}
}

func TestCollapsedVaryMismatchGoesAlone(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Language") == "en" {
			<-release
		}
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Language")
		io.WriteString(w, r.Header.Get("Accept-Language"))
	})
	var wg sync.WaitGroup
	var en, fr *httptest.ResponseRecorder
	wg.Go(func() { en = e.get("http://example.com/l", "Accept-Language", "en") })
	for e.org.n.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	wg.Go(func() { fr = e.get("http://example.com/l", "Accept-Language", "fr") })
	for e.c.Stats().Collapsed < 1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if en.Body.String() != "en" || fr.Body.String() != "fr" {
		t.Fatalf("en %q fr %q", en.Body, fr.Body)
	}
}

// slowWriter is a client that reads nothing until told, then cancels.
func TestLeaderDisconnectKeepsFill(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(gated(e.clk, release, "Cache-Control", "max-age=60"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, "http://example.com/d", nil)
		e.c.ServeHTTP(httptest.NewRecorder(), r)
	}()
	for e.org.n.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	var f *httptest.ResponseRecorder
	wg.Go(func() { f = e.get("http://example.com/d") })
	for e.c.Stats().Collapsed < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel() // the leader's client goes away
	<-done
	close(release)
	wg.Wait()
	if f.Code != 200 || f.Body.String() != "collapsed body" {
		t.Fatalf("follower: %d %q", f.Code, f.Body)
	}
	if w := e.get("http://example.com/d"); !strings.Contains(w.Header().Get("Cache-Status"), "hit") || e.org.n.Load() != 1 {
		t.Fatalf("not stored after the leader left: %q", w.Header().Get("Cache-Status"))
	}
}

func TestFollowerCancelFreesOnlyIt(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(gated(e.clk, release, "Cache-Control", "max-age=60"))
	var wg sync.WaitGroup
	var lead *httptest.ResponseRecorder
	wg.Go(func() { lead = e.get("http://example.com/f") })
	for e.org.n.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	fdone := make(chan struct{})
	go func() {
		defer close(fdone)
		e.c.ServeHTTP(httptest.NewRecorder(), httptest.NewRequestWithContext(ctx, http.MethodGet, "http://example.com/f", nil))
	}()
	for e.c.Stats().Collapsed < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-fdone // the follower returns while the origin still holds the fill
	close(release)
	wg.Wait()
	if lead.Code != 200 || lead.Body.String() != "collapsed body" {
		t.Fatalf("leader: %d %q", lead.Code, lead.Body)
	}
}

func TestLargeBodyStreamsAndPassesThrough(t *testing.T) {
	const size = 3 << 20 // beyond MaxObjectSize and several windows
	e := newEnv(t, edge.Options{MaxObjectSize: 1 << 20, MaxBytes: 8 << 20})
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		for written := 0; written < size; written += len(chunk) {
			w.Write(chunk)
		}
	})
	for i := range 2 {
		w := e.get("http://example.com/big")
		if w.Code != 200 || w.Body.Len() != size {
			t.Fatalf("request %d: %d, %d bytes", i, w.Code, w.Body.Len())
		}
		if cs := w.Header().Get("Cache-Status"); strings.Contains(cs, "hit") {
			t.Fatalf("a too-large object was stored: %q", cs)
		}
	}
	if e.org.n.Load() != 2 {
		t.Fatalf("origin requests %d", e.org.n.Load())
	}
	if st := e.c.Stats(); st.StoredBytes > 8<<20 || st.StoredObjects != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStoredBytesBounded(t *testing.T) {
	e := newEnv(t, edge.Options{MaxBytes: 1 << 20, MaxObjectSize: 64 << 10})
	body := strings.Repeat("y", 60<<10)
	e.org.set(fixed(e.clk, body, "Cache-Control", "max-age=60"))
	for i := range 100 {
		e.get("http://example.com/o" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
	}
	if st := e.c.Stats(); st.StoredBytes > 1<<20 {
		t.Fatalf("stored %d bytes > MaxBytes", st.StoredBytes)
	}
}

func TestPurgeDuringFill(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(gated(e.clk, release, "Cache-Control", "max-age=60"))
	var wg sync.WaitGroup
	wg.Go(func() { e.get("http://example.com/p") })
	for e.org.n.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	e.c.Purge("http://example.com/p")
	close(release)
	wg.Wait()
	e.org.set(fixed(e.clk, "new", "Cache-Control", "max-age=60"))
	if w := e.get("http://example.com/p"); w.Body.String() != "new" {
		t.Fatalf("a fill purged while running was stored: %q", w.Body)
	}
}

func TestOriginPanic(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		panic("boom")
	})
	var wg sync.WaitGroup
	res := make([]*httptest.ResponseRecorder, 10)
	for i := range res {
		wg.Go(func() { res[i] = e.get("http://example.com/panic") })
	}
	for e.c.Stats().Collapsed+e.c.Stats().Misses < int64(len(res)) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for _, w := range res {
		if w.Code != 502 || w.Header().Get("Cache-Status") != "" { // generated: no member (RFC 9211 §2)
			t.Fatalf("%d %q", w.Code, w.Header().Get("Cache-Status"))
		}
	}
	if w := e.do(http.MethodPost, "http://example.com/panic"); w.Code != 502 {
		t.Fatalf("pass-through panic: %d", w.Code)
	}
}

func TestHungOrigin(t *testing.T) {
	e := newEnv(t, edge.Options{OriginTimeout: 50 * time.Millisecond})
	e.org.set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	w := e.get("http://example.com/hung")
	if w.Code != 504 || w.Header().Get("Cache-Status") != "" { // generated: no member (RFC 9211 §2)
		t.Fatalf("%d %q", w.Code, w.Header().Get("Cache-Status"))
	}
	// With a stored response and stale-if-error, the stale one is served.
	e.org.set(fixed(e.clk, "old", "Cache-Control", "max-age=1, stale-if-error=600"))
	e.get("http://example.com/s")
	e.clk.Advance(5 * time.Second)
	e.org.set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	w = e.get("http://example.com/s")
	if w.Code != 200 || w.Body.String() != "old" {
		t.Fatalf("stale-if-error on a hung origin: %d %q %q", w.Code, w.Body, w.Header().Get("Cache-Status"))
	}
}

// cancelOnWrite is a client that goes away after the first body bytes.
type cancelOnWrite struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	n, err := c.ResponseRecorder.Write(p)
	c.cancel()
	return n, err
}

func TestLeaderDisconnectMidBody(t *testing.T) {
	e := newEnv(t, edge.Options{})
	second := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		<-second
		io.WriteString(w, "-last")
	})
	ctx, cancel := context.WithCancel(context.Background())
	lw := &cancelOnWrite{httptest.NewRecorder(), cancel}
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.c.ServeHTTP(lw, httptest.NewRequestWithContext(ctx, http.MethodGet, "http://example.com/mid", nil))
	}()
	<-done // the leader got "first" and left
	if lw.Body.String() != "first" {
		t.Fatalf("leader body %q", lw.Body)
	}
	var wg sync.WaitGroup
	var f *httptest.ResponseRecorder
	wg.Go(func() { f = e.get("http://example.com/mid") })
	for e.c.Stats().Collapsed < 1 {
		time.Sleep(time.Millisecond)
	}
	close(second)
	wg.Wait()
	if f.Body.String() != "first-last" || e.org.n.Load() != 1 {
		t.Fatalf("follower %q, origin requests %d", f.Body, e.org.n.Load())
	}
	if w := e.get("http://example.com/mid"); w.Body.String() != "first-last" || !strings.Contains(w.Header().Get("Cache-Status"), "hit") {
		t.Fatalf("after: %q %q", w.Body, w.Header().Get("Cache-Status"))
	}
}

func TestCollapsedPerVariant(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		io.WriteString(w, r.Header.Get("Accept-Encoding"))
	})
	e.get("http://example.com/v", "Accept-Encoding", "gzip") // the URI is now known to vary
	release := make(chan struct{})
	inner := e.org.handler
	e.org.set(func(w http.ResponseWriter, r *http.Request) { <-release; inner(w, r) })
	var wg sync.WaitGroup
	got := map[string][]*httptest.ResponseRecorder{}
	var mu sync.Mutex
	for _, enc := range []string{"br", "identity"} {
		for range 10 {
			wg.Go(func() {
				w := e.get("http://example.com/v", "Accept-Encoding", enc)
				mu.Lock()
				got[enc] = append(got[enc], w)
				mu.Unlock()
			})
		}
	}
	for e.c.Stats().Collapsed < 18 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := e.org.n.Load(); n != 3 {
		t.Fatalf("origin requests %d, want 3 (gzip, then one per new variant)", n)
	}
	for enc, ws := range got {
		for _, w := range ws {
			if w.Body.String() != enc {
				t.Fatalf("%s got %q", enc, w.Body)
			}
		}
	}
}
