// Package lbtest runs real loopback backends for tests of code using
// package lb: each answers with its own name, can be given another
// handler, and can be killed mid-test.
package lbtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/lb"
)

// Backend is one loopback HTTP server.
type Backend struct {
	Name string
	URL  *url.URL
	// Hits counts the requests the backend received.
	Hits atomic.Int64

	srv     *httptest.Server
	handler atomic.Pointer[http.Handler]
	once    sync.Once
}

// Start starts n backends named b0…b(n-1) on 127.0.0.1, closed when the test ends.
// By default each answers 200 with its name as body and X-Backend header.
func Start(t testing.TB, n int) []*Backend {
	t.Helper()
	if n < 0 {
		t.Fatalf("lbtest: Start: n %d: must be ≥ 0", n)
	}
	bs := make([]*Backend, n)
	for i := range bs {
		b := &Backend{Name: fmt.Sprintf("b%d", i)}
		b.srv = httptest.NewServer(http.HandlerFunc(b.serve))
		b.URL, _ = url.Parse(b.srv.URL)
		t.Cleanup(b.Kill)
		bs[i] = b
	}
	return bs
}

func (b *Backend) serve(w http.ResponseWriter, r *http.Request) {
	b.Hits.Add(1)
	w.Header().Set("X-Backend", b.Name)
	if h := b.handler.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	fmt.Fprint(w, b.Name)
}

// Handle replaces the default answer; the X-Backend header is still set.
// Handle(nil) restores the default.
func (b *Backend) Handle(h http.HandlerFunc) {
	if h == nil {
		b.handler.Store(nil)
		return
	}
	var hh http.Handler = h
	b.handler.Store(&hh)
}

// Kill stops the backend abruptly: open connections are cut and new ones
// refused. It waits for running handlers.
func (b *Backend) Kill() {
	b.once.Do(func() {
		b.srv.CloseClientConnections()
		b.srv.Close()
	})
}

// Backends describes the backends for lb.NewPool.
func Backends(bs []*Backend) []lb.Backend[*url.URL] {
	out := make([]lb.Backend[*url.URL], len(bs))
	for i, b := range bs {
		out[i] = lb.Backend[*url.URL]{Name: b.Name, Value: b.URL}
	}
	return out
}

// Pool returns a pool over bs, closed when the test ends.
func Pool(t testing.TB, bs []*Backend, opts lb.PoolOptions) *lb.Pool[*url.URL] {
	t.Helper()
	p, err := lb.NewPool(Backends(bs), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
