// Package edgeh builds ladder's edge cache (cache/edge) for the benchmarks
// in bench/: BenchmarkEdge, BenchmarkTelemetry's edge-hit path,
// cmd/edgebench and cmd/cacheconf all get it from New, so the day the
// real cache/edge replaces the stand-in below only New changes.
package edgeh

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/singleflight"
)

// Name is what the benchmark tables call the cache New builds.
const Name = "stand-in (cache/edge not merged yet)"

// Closer is what New returns beside the handler: *edge.Cache has Close.
type Closer interface{ Close() error }

// New returns ladder's edge cache in front of origin, recording through mp.
func New(origin http.Handler, mp metric.MeterProvider) (http.Handler, Closer, error) {
	c, err := newStandIn(origin, mp)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}

// standIn is a deliberately small shared cache with the shape of
// cache/edge (an http.Handler in front of an origin handler) so that the
// harness can be built and run before cache/edge lands: GET entries with
// an explicit public max-age, one origin request per burst of misses
// (singleflight), hits counted with an atomic and exported through an
// observable counter as cache/edge promises. It is NOT an RFC 9111 cache
// (no Vary, no revalidation, no Age arithmetic): conformance figures for
// it mean nothing.
type standIn struct {
	origin  http.Handler
	mu      sync.RWMutex
	entries map[string]*entry
	group   singleflight.Group
	hits    atomic.Int64
	misses  atomic.Int64
	reg     metric.Registration
}

type entry struct {
	status int
	header http.Header
	body   []byte
}

func newStandIn(origin http.Handler, mp metric.MeterProvider) (*standIn, error) {
	c := &standIn{origin: origin, entries: map[string]*entry{}}
	m := mp.Meter("github.com/ladder-go/ladder/cache/edge")
	reqs, err := m.Int64ObservableCounter("ladder.edge.requests")
	if err != nil {
		return nil, err
	}
	c.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(reqs, c.hits.Load(), metric.WithAttributes(attribute.String("ladder.edge.result", "hit")))
		o.ObserveInt64(reqs, c.misses.Load(), metric.WithAttributes(attribute.String("ladder.edge.result", "miss")))
		return nil
	}, reqs)
	return c, err
}

func (c *standIn) Close() error { return c.reg.Unregister() }

func (c *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.origin.ServeHTTP(w, r)
		return
	}
	key := r.Host + r.URL.RequestURI()
	c.mu.RLock()
	e := c.entries[key]
	c.mu.RUnlock()
	status := "hit"
	if e == nil {
		c.misses.Add(1)
		v, _, _ := c.group.Do(key, func() (any, error) {
			rec := &recorder{header: http.Header{}, status: http.StatusOK}
			or := r.Clone(r.Context())
			or.Method = http.MethodGet
			c.origin.ServeHTTP(rec, or)
			e := &entry{status: rec.status, header: rec.header, body: rec.body.Bytes()}
			if cacheable(e) {
				c.mu.Lock()
				c.entries[key] = e
				c.mu.Unlock()
			}
			return e, nil
		})
		e, status = v.(*entry), "fwd=miss"
	} else {
		c.hits.Add(1)
	}
	h := w.Header()
	for k, vs := range e.header {
		h[k] = vs
	}
	h["Cache-Status"] = []string{"ladder; " + status}
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == e.header.Get("ETag") {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Length"] = []string{strconv.Itoa(len(e.body))}
	w.WriteHeader(e.status)
	if r.Method == http.MethodGet {
		_, _ = w.Write(e.body)
	}
}

func cacheable(e *entry) bool {
	cc := e.header.Get("Cache-Control")
	return e.status == http.StatusOK && strings.Contains(cc, "max-age=") &&
		!strings.Contains(cc, "no-store") && !strings.Contains(cc, "private") && !strings.Contains(cc, "no-cache")
}

type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if !r.wrote {
		r.status, r.wrote = s, true
	}
}
func (r *recorder) Write(p []byte) (int, error) { r.wrote = true; return r.body.Write(p) }
