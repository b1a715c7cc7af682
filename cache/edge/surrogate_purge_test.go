package edge_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// A response revalidated with a 304 that does not repeat its Surrogate-Key
// (origins send validators and freshness on a 304, not their tags) keeps
// its surrogate keys: a purge by key still removes it.
func TestSurrogateKeysSurviveRevalidation(t *testing.T) {
	e := newEnv(t, edge.Options{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", e.clk.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Surrogate-Key", "product-7 catalog")
		io.WriteString(w, "v1")
	})
	e.get("http://example.com/p7")
	e.clk.Advance(20 * time.Second)
	if w := e.get("http://example.com/p7"); w.Body.String() != "v1" || e.org.n.Load() != 2 {
		t.Fatalf("revalidation: %q %q", w.Body, w.Header().Get("Cache-Status"))
	}
	if n := e.c.PurgeKey("product-7"); n != 1 {
		t.Fatalf("PurgeKey after a 304: removed %d, want 1", n)
	}
	e.get("http://example.com/p7")
	if e.org.n.Load() != 3 {
		t.Fatal("served from storage after its surrogate key was purged")
	}
}

// A purge by surrogate key while a fill tagged with that key is in flight
// stops the fill from storing (what it fetched may predate the purge), as
// a purge by URL does.
func TestPurgeKeyDuringFill(t *testing.T) {
	for _, when := range []string{"before the header", "after the header"} {
		t.Run(when, func(t *testing.T) {
			e := newEnv(t, edge.Options{})
			header, body := make(chan struct{}), make(chan struct{})
			var once sync.Once
			e.org.set(func(w http.ResponseWriter, r *http.Request) {
				first := false
				once.Do(func() { first = true })
				if first {
					<-header
				}
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Surrogate-Key", "news")
				w.WriteHeader(200)
				w.(http.Flusher).Flush()
				if first {
					<-body
				}
				io.WriteString(w, "old")
			})
			done := make(chan struct{})
			go func() { defer close(done); e.get("http://example.com/n") }()
			for e.org.n.Load() < 1 {
				time.Sleep(time.Millisecond)
			}
			if when == "after the header" {
				close(header)
				time.Sleep(10 * time.Millisecond) // let the header reach the fill (either order is a pass)
				e.c.PurgeKey("news")
				close(body)
			} else {
				e.c.PurgeKey("news")
				close(header)
				close(body)
			}
			<-done
			e.get("http://example.com/n")
			if e.org.n.Load() != 2 {
				t.Fatal("a fill running during PurgeKey stored its response")
			}
		})
	}
}

// The same for a revalidation: a 304 arriving after a purge by surrogate
// key does not bring the purged response back.
func TestPurgeKeyDuringRevalidation(t *testing.T) {
	e := newEnv(t, edge.Options{})
	gate := make(chan struct{})
	e.org.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", e.clk.Now().UTC().Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=10")
		w.Header().Set("Etag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			<-gate
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Surrogate-Key", "news")
		io.WriteString(w, "v1")
	})
	e.get("http://example.com/r")
	e.clk.Advance(20 * time.Second)
	done := make(chan struct{})
	go func() { defer close(done); e.get("http://example.com/r") }()
	for e.org.n.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	if n := e.c.PurgeKey("news"); n != 1 {
		t.Fatalf("PurgeKey removed %d", n)
	}
	close(gate)
	<-done
	e.get("http://example.com/r")
	if e.org.n.Load() != 3 {
		t.Fatal("the revalidated response came back after its surrogate key was purged")
	}
	if n := e.c.PurgeKey("news"); n != 1 {
		t.Fatalf("the refetched response is not tagged: PurgeKey removed %d", n)
	}
}
