package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/bench/internal/edgeh"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// BenchmarkEdge is cache/edge's serving path in process, no network: a
// request through the cache to a writer that discards the body, so the
// allocations per request are ladder's alone. Hits for the objects of
// cmd/edgebench (1 KiB, 16 KiB, 256 KiB, public, max-age=3600, strong
// ETags), a HEAD served from the stored GET, a client's conditional
// request answered 304 from the cache, and hits on every core at once.
// The figures against nginx and Varnish are cmd/edgebench's (loopback,
// wrk); this one watches ladder's cost per hit.
func BenchmarkEdge(b *testing.B) {
	for _, ob := range edgeh.Objects {
		b.Run("ladder-hit-"+ob.Name, func(b *testing.B) {
			benchEdge(b, ob, http.MethodGet, false, false)
		})
	}
	ob := edgeh.Objects[0]
	b.Run("ladder-head-"+ob.Name, func(b *testing.B) { benchEdge(b, ob, http.MethodHead, false, false) })
	b.Run("ladder-304-"+ob.Name, func(b *testing.B) { benchEdge(b, ob, http.MethodGet, true, false) })
	b.Run("ladder-hit-parallel-"+ob.Name, func(b *testing.B) { benchEdge(b, ob, http.MethodGet, false, true) })
}

func benchEdge(b *testing.B, ob edgeh.Object, method string, conditional, par bool) {
	serve, newReq := edgeHit(b, noop.NewMeterProvider(), ob, method, conditional)
	if method == http.MethodGet && !conditional {
		b.SetBytes(int64(ob.Size))
	}
	b.ReportAllocs()
	if par {
		b.RunParallel(func(pb *testing.PB) {
			w, r := newEdgeWriter(), newReq()
			for pb.Next() {
				serve(w, r)
			}
		})
		return
	}
	w, r := newEdgeWriter(), newReq()
	for b.Loop() {
		serve(w, r)
	}
}

// edgeHit builds ladder's edge in front of the benchmark origin, warms ob
// (the miss that fills it, checked to be stored: the second request must
// not reach the origin), and returns one request served from the cache
// (checked: status) and how to build that request. conditional sends
// If-None-Match with the object's ETag: a 304 from the cache.
func edgeHit(b *testing.B, mp metric.MeterProvider, ob edgeh.Object, method string, conditional bool) (serve func(*edgeWriter, *http.Request), newReq func() *http.Request) {
	b.Helper()
	origin := edgeh.NewOrigin(0)
	h, closer, err := edgeh.New(origin, mp)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = closer.Close() })
	w := newEdgeWriter()
	for range 2 {
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://edge.example"+ob.Path, nil))
		if w.status != http.StatusOK || w.n != ob.Size {
			b.Fatalf("warming %s: status %d, %d bytes", ob.Path, w.status, w.n)
		}
		w.reset()
	}
	if n := origin.Count(ob.Path); n != 1 {
		b.Fatalf("warming %s: the origin got %d requests, want 1 (not stored?)", ob.Path, n)
	}
	want := http.StatusOK
	if conditional {
		want = http.StatusNotModified
	}
	newReq = func() *http.Request {
		r := httptest.NewRequest(method, "http://edge.example"+ob.Path, nil)
		if conditional {
			r.Header.Set("If-None-Match", origin.ETag(ob.Path))
		}
		return r
	}
	serve = func(w *edgeWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		if w.status != want {
			b.Fatalf("%s %s: status %d, want %d", method, ob.Path, w.status, want)
		}
		w.reset()
	}
	return serve, newReq
}

// edgeWriter is an http.ResponseWriter that keeps the status and the
// byte count and reuses its header map, so a benchmark's allocations are
// the handler's.
type edgeWriter struct {
	h      http.Header
	status int
	n      int
}

func newEdgeWriter() *edgeWriter { return &edgeWriter{h: make(http.Header, 16)} }

func (w *edgeWriter) Header() http.Header { return w.h }
func (w *edgeWriter) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *edgeWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
func (w *edgeWriter) reset() { clear(w.h); w.status, w.n = 0, 0 }
