package lb

import (
	"errors"
	"net/http"
	"net/url"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Transport is a client-side load balancer: an http.RoundTripper sending
// each request to a backend of Pool chosen by its policy, whatever host the
// request names, with the proxy's retries of idempotent requests on another
// backend. The zero value with a Pool works:
//
//	client := &http.Client{Transport: &lb.Transport{Pool: pool}}
//	client.Get("http://users/api/v1/me") // host replaced by a backend's
//
// The backend receives its own host in the Host header, as from [Proxy]
// and as Envoy's auto_host_rewrite does: the virtual name in the URL
// ("users") is a name for the pool, which backends behind no shared
// front end do not know. A Host the caller set explicitly (req.Host not
// empty and different from req.URL.Host) is sent as it is, and
// PreserveHost sends the request's Host in every case (gRPC's and
// Envoy's default, for backends that route on the service's name).
//
// Call [Transport.Validate] at startup: the configuration is read once, by
// the first Validate or request, and must not change afterwards.
type Transport struct {
	// Pool holds the backends. Their URLs may carry a path prefix. With a
	// nil Pool every request fails with ErrNoBackend, as with an empty one.
	Pool *Pool[*url.URL]
	// Base sends requests; nil means http.DefaultTransport.
	Base http.RoundTripper
	// HashKey, if set, extracts the key for a [Hash] policy; requests whose
	// key is empty are balanced as if unkeyed.
	HashKey func(*http.Request) string
	// Retry configures retries.
	Retry RetryOptions
	// PreserveHost sends the request's Host header (by default the host of
	// its URL) instead of the backend's.
	PreserveHost bool
	// Propagator writes the trace context of the request's ctx into the
	// request sent (on a copy of its headers: the caller's request is not
	// changed); nil means otel.GetTextMapPropagator(), which writes nothing
	// until an application installs one. To turn it off, give an empty
	// propagation.NewCompositeTextMapPropagator().
	Propagator propagation.TextMapPropagator
	// TracerProvider starts one client span per try, as for [Proxy]: the
	// request sent carries the client span's context. nil means
	// otel.GetTracerProvider(); no span is started while that is a noop
	// provider or the global one before an SDK is installed.
	TracerProvider trace.TracerProvider

	once sync.Once
	prop propagation.TextMapPropagator
	a    *attempts
	err  error
}

var _ http.RoundTripper = (*Transport)(nil)

// Validate checks the Retry options and returns an error wrapping
// [ErrInvalidOptions] naming the first invalid field. Call it at startup:
// the first call, or the first request if Validate was never called, reads
// the configuration once and freezes it, so fields changed afterwards are
// ignored and every later call returns the same result.
func (t *Transport) Validate() error {
	t.once.Do(t.init)
	return t.err
}

func (t *Transport) init() {
	ro := t.Retry
	if t.err = ro.validate(); t.err != nil {
		return
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	t.prop = t.Propagator
	if t.prop == nil {
		t.prop = otel.GetTextMapPropagator()
	}
	t.a = &attempts{pool: t.Pool, retry: ro, budget: newBudget(ro), base: base, tracing: newClientTracing(t.TracerProvider, t.prop)}
}

// RoundTrip sends req to a backend. It returns ErrNoBackend when none is
// available and, for an invalid configuration, the error of [Transport.Validate].
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Validate() != nil {
		closeBody(req)
		return nil, t.err
	}
	if req.URL == nil {
		closeBody(req)
		return nil, errNilRequestURL
	}
	st := &proxyState{snap: t.Pool.load(), pinned: -1, served: -1}
	if t.HashKey != nil {
		if k := t.HashKey(req); k != "" { // no key: balance, do not pile onto one backend
			st.key, st.keyed = fnv64(k), true
		}
	}
	out := req
	switch {
	case !t.PreserveHost && req.Host != "" && req.Host == req.URL.Host:
		// The virtual host from the URL: let each try send its backend's.
		// A shallow copy, since a RoundTripper must not change req.
		c := *req
		c.Host = ""
		out = &c
	case t.PreserveHost && req.Host == "":
		// No Host set: the one to preserve is the URL's, which each try
		// replaces by its backend's.
		c := *req
		c.Host = req.URL.Host
		out = &c
	}
	// The carrier lives in st, already allocated per request: no extra
	// allocation when the propagator writes nothing.
	st.carrier.req = out
	t.prop.Inject(req.Context(), &st.carrier)
	out = st.carrier.req
	resp, err := t.a.roundTrip(out, st)
	if err != nil {
		closeBody(req)
	}
	return resp, err
}

// closeBody honours RoundTripper's contract to close the body even on errors.
func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// CloseIdleConnections closes the idle connections of Base, if it can.
func (t *Transport) CloseIdleConnections() {
	var base http.RoundTripper = http.DefaultTransport
	if t.Base != nil {
		base = t.Base
	}
	if c, ok := base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// errNilRequestURL is http.Transport's error for a request without a URL.
var errNilRequestURL = errors.New("lb: nil Request.URL")

// copyOnSet is a propagation carrier that copies the request and its
// headers on the first Set, so a RoundTripper leaves the caller's request
// untouched and pays nothing when the propagator writes nothing.
type copyOnSet struct {
	req    *http.Request
	copied bool
}

func (c *copyOnSet) Get(key string) string { return c.req.Header.Get(key) }

func (c *copyOnSet) Keys() []string {
	keys := make([]string, 0, len(c.req.Header))
	for k := range c.req.Header {
		keys = append(keys, k)
	}
	return keys
}

func (c *copyOnSet) Set(key, value string) {
	if !c.copied {
		c.copied = true
		r := *c.req
		r.Header = c.req.Header.Clone()
		if r.Header == nil {
			r.Header = make(http.Header)
		}
		c.req = &r
	}
	c.req.Header.Set(key, value)
}
