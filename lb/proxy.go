package lb

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

type urlT = *url.URL

// Proxy is an HTTP reverse proxy over a pool of backend URLs, built on
// httputil.ReverseProxy. The zero value with a Pool proxies round robin (or
// with the pool's policy):
//
//	http.ListenAndServe(":8080", &lb.Proxy{Pool: pool})
//
// Call [Proxy.Validate] at startup: the configuration is read once, by the
// first Validate or request, and must not change afterwards.
//
// X-Forwarded-For, -Host and -Proto are set from the connection's peer; the
// incoming ones, like any other X-Forwarded-* header and the other headers
// naming a client's address (True-Client-IP, X-Client-IP, CF-Connecting-IP,
// X-Cluster-Client-IP, X-Original-Forwarded-For, X-Forwarded,
// Fastly-Client-IP, Client-IP, X-Originating-IP, X-Remote-IP,
// X-Remote-Addr, X-ProxyUser-IP) and the headers that override the request
// path in some frameworks (X-Original-URL, X-Rewrite-URL), are kept only
// when the peer is in TrustedProxies, and X-Real-IP is set to [ClientIP]. Forwarded (RFC 7239)
// is always dropped, as by httputil.ReverseProxy. Spellings with
// underscores (X_Forwarded_For, True_Client_IP), which CGI-style backends
// confuse with the real headers, are always dropped. A path's dot segments
// are resolved before it is forwarded, and a path holding an escaped slash
// or backslash is rejected with 400 (see EscapedSlashes). Idempotent
// requests without a body (and, with Retry.IdempotencyKeyHeader, requests
// carrying an idempotency key) are retried on a different backend after a
// connection error or a 502/503/504, within a retry budget. Clients see 502,
// 503 or 504 without internal detail. WebSocket upgrades and streamed
// responses pass through; h2c upgrades do not (the request goes on as a
// plain one), since a tunnelled HTTP/2 connection would bypass the proxy.
type Proxy struct {
	// Pool holds the backends. Their URLs may carry a path prefix. A nil
	// Pool answers every request 503, as an empty one does.
	Pool *Pool[*url.URL]
	// TrustedProxies are the networks whose X-Forwarded-* headers are
	// kept; from any other peer they are replaced.
	TrustedProxies Trusted
	// HashKey, if set, extracts the key for [Pool.PickKey] (see
	// ClientIPKey, HeaderKey, CookieKey); the pool's policy should be [Hash].
	// Requests whose key is empty are balanced as if unkeyed.
	HashKey func(*http.Request) string
	// Sticky, if set, pins clients to a backend with a signed cookie.
	Sticky *StickyOptions
	// Retry configures retries.
	Retry RetryOptions
	// PreserveHost sends the client's Host header instead of the backend's.
	PreserveHost bool
	// EscapedSlashes says what to do with a path holding %2F, %5C or a
	// backslash; the zero value rejects the request with 400. Whatever it
	// says, the path's dot segments are resolved before it is forwarded,
	// counting their percent-encoded forms (%2e%2e) and path parameters
	// (..;x), so a request cannot climb out of a backend's path prefix.
	EscapedSlashes EscapedSlashes
	// Transport sends requests to backends; nil means a clone of
	// http.DefaultTransport that keeps up to 256 idle connections per
	// backend and no cap on them in all (http.DefaultTransport keeps 2 per
	// host and 100 in all: under load it closes connections and dials new
	// ones), that does not ask backends for gzip on the client's behalf
	// (DisableCompression: a client's own Accept-Encoding passes through,
	// and a response is never compressed by the backend only to be
	// decompressed here), and that ignores HTTP_PROXY/HTTPS_PROXY
	// (backends are dialled directly). Each backend host gets its own
	// such transport: after a pool update, the first request closes the
	// idle connections of the hosts no longer in the pool (those busy
	// close when their request ends). Idle connections are those a peak
	// of load opened, kept for 90 s: up to 256 per backend, so a proxy
	// over many backends needs a file-descriptor limit of at least
	// 256 × backends plus its clients' connections to never hit it (Go
	// raises the soft limit to the hard one at start on Linux).
	Transport http.RoundTripper
	// FlushInterval is httputil.ReverseProxy's: zero flushes when its
	// buffer fills, negative after every write; streamed responses are
	// flushed immediately regardless.
	FlushInterval time.Duration
	// Logger logs proxy errors; nil means slog.Default().
	Logger *slog.Logger
	// Propagator writes the trace context of the request's ctx (the span
	// a server middleware such as observe's started) into the request sent
	// to the backend; nil means otel.GetTextMapPropagator(), which writes
	// nothing until an application installs one. Incoming trace headers
	// pass through untouched when ctx carries no span. To turn it off, give
	// an empty propagation.NewCompositeTextMapPropagator().
	Propagator propagation.TextMapPropagator
	// TracerProvider starts one client span per try (kind client, named by
	// the method, with the backend's server.address, the status code,
	// error status and http.request.resend_count on retries), whose
	// context Propagator writes into the request sent: the backend's
	// server span is its child. nil means otel.GetTracerProvider(); no
	// span is started while that is a noop provider or the global one
	// before an SDK is installed.
	TracerProvider trace.TracerProvider

	once    sync.Once
	prop    propagation.TextMapPropagator
	rp      *httputil.ReverseProxy
	sticky  *sticky
	budget  *budget
	retry   RetryOptions
	slashes EscapedSlashes
	err     error
}

type stateKey struct{}

// proxyState carries one request's routing through ReverseProxy. For
// Proxy it is also the request's context (the one it was given, with
// itself as the value of stateKey), which saves a context.WithValue per
// request.
type proxyState struct {
	context.Context
	snap   *snapshot[urlT]
	key    uint64
	keyed  bool
	pinned int // sticky position, -1 if none
	served int // position that answered, -1 if none
	tried  [4]int
	// carrier injects trace context for Transport (see copyOnSet).
	carrier copyOnSet
	// fwd backs the values of the headers rewrite sets (X-Forwarded-For,
	// -Host, -Proto, X-Real-Ip): one allocation instead of one each.
	fwd [4]string
	// upgraded is the answering try when it answered 101: ReverseProxy
	// does not close that body when it refuses the switch (the backend
	// switched to another protocol than asked, the ResponseWriter cannot
	// hijack), so ServeHTTP ends the try itself once ReverseProxy is done.
	upgraded *tryRun
}

// Value returns the state itself for stateKey, else the request's value.
func (s *proxyState) Value(key any) any {
	if key == (stateKey{}) {
		return s
	}
	return s.Context.Value(key)
}

func (p *Proxy) init() {
	p.retry = p.Retry
	if p.err = p.retry.validate(); p.err != nil {
		return
	}
	p.slashes = p.EscapedSlashes
	if p.err = p.slashes.validate(); p.err != nil {
		return
	}
	if p.Sticky != nil {
		if p.sticky, p.err = newSticky(*p.Sticky); p.err != nil {
			return
		}
	}
	p.budget = newBudget(p.retry)
	p.prop = p.Propagator
	if p.prop == nil {
		p.prop = otel.GetTextMapPropagator() // the global delegate: follows a later SetTextMapPropagator
	}
	base := p.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		t.MaxIdleConns = 0 // no cap in all: the per-backend one bounds it
		t.DisableCompression = true
		t.Proxy = nil // backends are dialled directly, whatever HTTP_PROXY says
		base = newBackendTransports(p.Pool, t)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      &attempts{pool: p.Pool, retry: p.retry, budget: p.budget, base: base, owned: true, tracing: newClientTracing(p.TracerProvider, p.prop)},
		FlushInterval:  p.FlushInterval,
		BufferPool:     copyBufs,
		ModifyResponse: p.modifyResponse,
		ErrorHandler:   p.errorHandler,
		ErrorLog:       slog.NewLogLogger(redactHandler{p.logger().Handler()}, slog.LevelWarn),
	}
}

func (p *Proxy) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Validate checks the configuration (Retry, Sticky, EscapedSlashes) and
// returns an error wrapping [ErrInvalidOptions] naming the first invalid
// field. Call it at startup, before serving: the first call, or the first
// request if Validate was never called, reads the configuration once and
// freezes it, so fields changed afterwards are ignored and every later call
// returns the same result. A proxy whose configuration is invalid answers
// every request 500 and logs the error.
func (p *Proxy) Validate() error {
	p.once.Do(p.init)
	return p.err
}

// ServeHTTP proxies r to a backend.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p.Validate() != nil {
		p.logger().Error("lb: proxy misconfigured", "err", p.err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	u, ok := cleanURL(r.URL, p.slashes)
	if !ok {
		http.Error(w, "escaped slash or backslash in path", http.StatusBadRequest)
		return
	}
	st := &proxyState{Context: r.Context(), snap: p.Pool.load(), pinned: -1, served: -1}
	if p.HashKey != nil {
		if k := p.HashKey(r); k != "" { // no key: balance, do not pile onto one backend
			st.key, st.keyed = fnv64(k), true
		}
	}
	if p.sticky != nil && st.snap != nil {
		st.pinned = p.sticky.lookup(r, st.snap)
	}
	r = r.WithContext(st)
	r.URL = u
	p.rp.ServeHTTP(w, r)
	if st.upgraded != nil {
		// Closed already if the connection was switched; else it would
		// hold the backend's connection and count the try in flight forever.
		st.upgraded.body.Close()
	}
}

func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	peer, ok := peerAddr(pr.In)
	trusted := ok && p.TrustedProxies.Contains(peer)
	stripForwarding(pr.Out.Header, trusted)
	if upgradesToH2C(pr.Out.Header) {
		// A tunnelled h2c connection would carry HTTP/2 requests straight
		// to the backend, past this proxy's rules (h2c smuggling): send
		// the request as a plain one.
		pr.Out.Header.Del("Upgrade")
		pr.Out.Header.Del("Connection")
		pr.Out.Header.Del("Http2-Settings")
	}
	// The values live in the request's state (one allocation for all):
	// set like Header.Set does, with canonical keys.
	var fwd *[4]string
	if st, _ := pr.In.Context().Value(stateKey{}).(*proxyState); st != nil {
		fwd = &st.fwd
	} else {
		fwd = new([4]string)
	}
	set := func(i int, key, v string) {
		fwd[i] = v
		pr.Out.Header[key] = fwd[i : i+1 : i+1]
	}
	peerStr := ""
	if ok {
		peerStr = peer.String()
	}
	if xff := forwardedForPeer(pr.In, p.TrustedProxies, peer, ok, peerStr); xff != "" {
		set(0, "X-Forwarded-For", xff)
	}
	host, proto := pr.In.Host, "http"
	if pr.In.TLS != nil {
		proto = "https"
	}
	if trusted {
		if h, ok := lastForwardedHost(pr.In.Header.Values("X-Forwarded-Host")); ok {
			host = h
		}
		if v, _ := lastForwarded(pr.In.Header.Values("X-Forwarded-Proto")); v == "http" || v == "https" {
			proto = v
		}
	}
	set(1, "X-Forwarded-Host", host)
	set(2, "X-Forwarded-Proto", proto)
	// X-Real-IP is a single address many backends believe: it is always ours.
	switch {
	case ok && !trusted: // the client is the peer
		set(3, "X-Real-Ip", peerStr)
	default:
		if c := ClientIP(pr.In, p.TrustedProxies); c.IsValid() {
			set(3, "X-Real-Ip", c.String())
		} else {
			pr.Out.Header.Del("X-Real-Ip")
		}
	}
	p.prop.Inject(pr.Out.Context(), propagation.HeaderCarrier(pr.Out.Header))
	if p.PreserveHost {
		pr.Out.Host = pr.In.Host
	} else {
		pr.Out.Host = ""
	}
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	st, _ := resp.Request.Context().Value(stateKey{}).(*proxyState)
	if p.sticky != nil && st != nil && st.served >= 0 && st.served != st.pinned {
		resp.Header.Add("Set-Cookie", p.sticky.cookie(st.snap, st.served).String())
	}
	return nil
}

func (p *Proxy) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadGateway
	switch {
	case errors.Is(err, ErrNoBackend):
		code = http.StatusServiceUnavailable
	case errors.Is(err, ErrTryTimeout), errors.Is(err, context.DeadlineExceeded):
		code = http.StatusGatewayTimeout
	case r.Context().Err() != nil:
		return // the client left; nobody to answer
	}
	// Paths and query strings can carry tokens, and errors can quote them
	// (a *url.Error repeats the whole URL, a broken backend may echo the
	// request line): log the method, the status and the redacted cause only.
	p.logger().Warn("lb: proxy error", "method", r.Method, "status", code, "err", redactErr(err))
	http.Error(w, http.StatusText(code), code)
}
