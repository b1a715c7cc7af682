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

// serve runs one request and reports whether the handler aborted the
// response (panic(http.ErrAbortHandler): the server cuts the connection, so
// the client sees a truncated body, never a short complete one).
func serve(h http.Handler, url string, hdr ...string) (w *httptest.ResponseRecorder, aborted bool) {
	r := httptest.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w = httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				panic(p)
			}
			aborted = true
		}
	}()
	h.ServeHTTP(w, r)
	return w, false
}

// An origin that sends its header and part of its body, then stalls past
// OriginTimeout (a trickling origin), must not have its partial body stored
// as the response, and the client must see the body cut, not complete.
func TestOriginTimeoutMidBodyNotStored(t *testing.T) {
	e := newEnv(t, edge.Options{OriginTimeout: 50 * time.Millisecond})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the rest never comes
	})
	w, aborted := serve(e.c, "http://example.com/trickle")
	if !aborted {
		t.Fatalf("client got a complete response: %d %q %q", w.Code, w.Body, w.Header().Get("Cache-Status"))
	}
	e.org.set(fixed(e.clk, "whole", "Cache-Control", "max-age=60"))
	w = e.get("http://example.com/trickle")
	if w.Body.String() != "whole" || e.org.n.Load() != 2 {
		t.Fatalf("truncated body stored: %q %q (origin requests %d)", w.Body, w.Header().Get("Cache-Status"), e.org.n.Load())
	}
}

// An origin handler that returns having written less than its
// Content-Length: nothing stored, and the body is cut for the client.
func TestOriginShortBodyNotStored(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "short")
	})
	_, aborted := serve(e.c, "http://example.com/short")
	if !aborted {
		t.Fatal("a body shorter than its Content-Length was sent as complete")
	}
	e.org.set(fixed(e.clk, "whole", "Cache-Control", "max-age=60"))
	if w := e.get("http://example.com/short"); w.Body.String() != "whole" {
		t.Fatalf("short body stored: %q", w.Body)
	}
}

// An origin that panics after sending its header and part of its body:
// every client of the fill (leader and followers) gets the part and a cut,
// nothing is stored, and the process lives.
func TestOriginPanicMidBody(t *testing.T) {
	e := newEnv(t, edge.Options{})
	release := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "part")
		panic("boom")
	})
	var wg sync.WaitGroup
	cut := make([]bool, 5)
	for i := range cut {
		wg.Go(func() { _, cut[i] = serve(e.c, "http://example.com/pm") })
	}
	for e.c.Stats().Collapsed+e.c.Stats().Misses < int64(len(cut)) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, c := range cut {
		if !c {
			t.Fatalf("client %d got a complete response", i)
		}
	}
	e.org.set(fixed(e.clk, "whole", "Cache-Control", "max-age=60"))
	if w := e.get("http://example.com/pm"); w.Body.String() != "whole" {
		t.Fatalf("stored after a panic: %q", w.Body)
	}
}
