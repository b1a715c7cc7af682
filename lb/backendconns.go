package lb

import (
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
)

// backendTransports is Proxy's default transport: one http.Transport per
// backend host, cloned from proto. http.Transport closes idle connections
// only all at once, and keeps each for IdleConnTimeout (90 s): with one
// transport, a backend removed from the pool kept up to
// MaxIdleConnsPerHost connections (and their file descriptors) open, and
// every backend replaced in a rolling deploy added its own. Here, the
// first request after a pool update closes the idle connections of the
// hosts no member names any more (and those still busy once they finish).
type backendTransports struct {
	pool  *Pool[*url.URL]
	proto *http.Transport

	mu   sync.Mutex // held to add or prune transports
	m    atomic.Pointer[map[string]*http.Transport]
	seen atomic.Pointer[snapshot[urlT]] // the pool's snapshot pruned for
}

func newBackendTransports(pool *Pool[*url.URL], proto *http.Transport) *backendTransports {
	b := &backendTransports{pool: pool, proto: proto}
	m := map[string]*http.Transport{}
	b.m.Store(&m)
	return b
}

func (b *backendTransports) RoundTrip(req *http.Request) (*http.Response, error) {
	if s := b.pool.load(); s != b.seen.Load() {
		b.prune(s)
	}
	t := (*b.m.Load())[req.URL.Host]
	if t == nil {
		if !b.named(req.URL.Host) {
			// A request picked from a snapshot older than the update that
			// removed its backend: sent on a connection closed after it,
			// which no transport keeps idle.
			r := *req
			r.Close = true
			return b.proto.RoundTrip(&r)
		}
		t = b.add(req.URL.Host)
	}
	return t.RoundTrip(req)
}

// named reports whether a member of the pool's latest snapshot has host.
func (b *backendTransports) named(host string) bool {
	if s := b.pool.load(); s != nil {
		for _, u := range s.vals {
			if u != nil && u.Host == host {
				return true
			}
		}
	}
	return false
}

func (b *backendTransports) add(host string) *http.Transport {
	b.mu.Lock()
	defer b.mu.Unlock()
	old := *b.m.Load()
	if t := old[host]; t != nil {
		return t
	}
	t := b.proto.Clone()
	m := make(map[string]*http.Transport, len(old)+1)
	for h, x := range old {
		m[h] = x
	}
	m[host] = t
	b.m.Store(&m)
	return t
}

// prune drops the transports of hosts that no member of s names, closing
// their idle connections. Requests still using one finish; their
// connections are closed when they would go idle.
func (b *backendTransports) prune(s *snapshot[urlT]) {
	if !b.mu.TryLock() {
		return // another request is pruning
	}
	defer b.mu.Unlock()
	if b.seen.Load() == s {
		return
	}
	b.seen.Store(s)
	old := *b.m.Load()
	var keep map[string]bool
	if s != nil {
		keep = make(map[string]bool, len(s.vals))
		for _, u := range s.vals {
			if u != nil {
				keep[u.Host] = true
			}
		}
	}
	var gone []*http.Transport
	m := make(map[string]*http.Transport, len(old))
	for h, t := range old {
		if keep[h] {
			m[h] = t
		} else {
			gone = append(gone, t)
		}
	}
	if len(gone) == 0 {
		return
	}
	b.m.Store(&m)
	for _, t := range gone {
		t.CloseIdleConnections()
	}
}

// CloseIdleConnections closes the idle connections to every backend.
func (b *backendTransports) CloseIdleConnections() {
	for _, t := range *b.m.Load() {
		t.CloseIdleConnections()
	}
}
