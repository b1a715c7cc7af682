package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Defaults for zero Options fields.
const (
	DefaultCookieName  = "session"
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultCommitTimeout is the bound on each store call (a commit included) when
	// Options.StoreTimeout is 0.
	DefaultCommitTimeout = 10 * time.Second
	DefaultLifetime      = 12 * time.Hour
	// DefaultGrace is comfortably above the request timeouts servers use (30 s to 2 min):
	// see Options.Grace.
	DefaultGrace   = 5 * time.Minute
	DefaultMaxSize = 64 << 10
)

// Options configure a Manager. The zero value is right for most HTTPS services. A zero
// field means its default; a negative duration or size is an error wrapping
// ErrInvalidOptions (no field is turned off by a negative value).
type Options struct {
	// CookieName is the cookie's name; "" means "session". Over HTTPS, prefer
	// "__Host-session": browsers then accept the cookie only as this package sets it
	// (Secure, Path=/, no Domain), so a sibling subdomain cannot plant a session cookie
	// for this host (cookie tossing). The prefixes __Host- and __Secure- need Secure, so
	// they are refused with Insecure.
	CookieName string
	// Insecure drops the cookie's Secure attribute. Set it only for plain-HTTP development.
	Insecure bool
	// Persistent gives the cookie a Max-Age (the remaining absolute lifetime) so it survives
	// a browser restart; by default it is a browser-session cookie.
	Persistent bool
	// IdleTimeout ends a session not used for this long; 0 means 30 minutes.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after creation, however active; 0 means 12 hours.
	Lifetime time.Duration
	// TouchInterval is how far the idle deadline must move before a request writes it
	// (so most requests write nothing); 0 means IdleTimeout/10.
	TouchInterval time.Duration
	// StoreTimeout bounds each store call, so that a hung store fails requests fast
	// instead of holding them; 0 means DefaultCommitTimeout (10 s). There is no
	// unbounded setting: the request's context may still end a call sooner. Commits run
	// detached from the request's cancellation (a client that disconnects must not lose
	// what its handler changed), under StoreTimeout. The bound reaches the store as its
	// ctx, so the store's client must honour ctx deadlines (for redisstore, a go-redis
	// client with ContextTimeoutEnabled; see redisstore.New).
	StoreTimeout time.Duration
	// Grace is how long a destroyed or renewed session's tombstone lives; 0 means
	// DefaultGrace (5 minutes). It must exceed the longest request (the server's
	// WriteTimeout): a request that loaded the session before a login (RenewID) commits
	// through the old identifier's tombstone to the renewed session, and once the
	// tombstone is gone its changes are dropped as after a logout while it answers
	// normally. For as long, a request carrying the pre-login identifier is told
	// ErrRenewed instead of starting a session that would replace the login's cookie.
	// The first request of an http.Server whose WriteTimeout is set and not below Grace
	// logs a warning.
	Grace time.Duration
	// MaxSize bounds the encoded size of one session's keys and values; 0 means 64 KiB.
	// Put enforces it against the session as this request sees it; the store enforces it
	// again when a request that grows the session commits, against the session as it is
	// then, so concurrent requests cannot together exceed it: the commit that would fails
	// with ErrTooLarge (ErrorHandler answers; by default 500) and its values are dropped.
	// A change that does not grow the session is always accepted.
	MaxSize int
	// Codec encodes values; nil means JSON.
	Codec Codec
	// ErrorHandler answers a request whose session changes could not be committed before
	// the response headers went out, in place of the handler's response (the headers the
	// handler had set are dropped first); nil answers 503 Service Unavailable for store
	// failures (ErrStore) and 500 for a session over MaxSize (ErrTooLarge).
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MeterProvider records metrics; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Logger logs failures (never tokens); nil means slog.Default().
	Logger *slog.Logger
}

// Manager loads and commits sessions around HTTP handlers. Create it with New.
type Manager struct {
	store  Store
	opts   Options
	cookie http.Cookie // template
	met    *metrics
	// checked holds the http.Servers (*http.Server keys) already checked against Grace.
	checked sync.Map
}

// New returns a Manager over store.
func New(store Store, opts Options) (*Manager, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: store is nil", ErrInvalidOptions)
	}
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	met, err := newMetrics(opts.MeterProvider)
	if err != nil {
		return nil, err
	}
	m := &Manager{store: store, opts: opts, met: met}
	m.cookie = http.Cookie{Name: opts.CookieName, Path: "/", HttpOnly: true,
		Secure: !opts.Insecure, SameSite: http.SameSiteLaxMode}
	return m, nil
}

func (o *Options) defaults() error {
	checks := []struct {
		name string
		d    time.Duration
	}{{"IdleTimeout", o.IdleTimeout}, {"Lifetime", o.Lifetime},
		{"TouchInterval", o.TouchInterval}, {"Grace", o.Grace},
		{"StoreTimeout", o.StoreTimeout}}
	for _, c := range checks {
		if c.d < 0 {
			return fmt.Errorf("%w: %s %v: must be ≥ 0", ErrInvalidOptions, c.name, c.d)
		}
	}
	if o.MaxSize < 0 {
		return fmt.Errorf("%w: MaxSize %d: must be ≥ 0", ErrInvalidOptions, o.MaxSize)
	}
	if o.CookieName == "" {
		o.CookieName = DefaultCookieName
	}
	if !validCookieName(o.CookieName) {
		return fmt.Errorf("%w: CookieName %q: not a valid cookie name", ErrInvalidOptions, o.CookieName)
	}
	if o.Insecure && (strings.HasPrefix(o.CookieName, "__Host-") || strings.HasPrefix(o.CookieName, "__Secure-")) {
		// Browsers refuse such a cookie without Secure: every request would start anew.
		return fmt.Errorf("%w: CookieName %q with Insecure: browsers require Secure for this prefix", ErrInvalidOptions, o.CookieName)
	}
	o.IdleTimeout = orDefault(o.IdleTimeout, DefaultIdleTimeout)
	o.Lifetime = orDefault(o.Lifetime, DefaultLifetime)
	o.TouchInterval = orDefault(o.TouchInterval, o.IdleTimeout/10)
	o.Grace = orDefault(o.Grace, DefaultGrace)
	o.StoreTimeout = orDefault(o.StoreTimeout, DefaultCommitTimeout)
	if o.TouchInterval > o.IdleTimeout {
		return fmt.Errorf("%w: TouchInterval %v: must be ≤ IdleTimeout %v", ErrInvalidOptions, o.TouchInterval, o.IdleTimeout)
	}
	if o.MaxSize == 0 {
		o.MaxSize = DefaultMaxSize
	}
	if o.Codec == nil {
		o.Codec = JSON{}
	}
	if o.ErrorHandler == nil {
		o.ErrorHandler = defaultErrorHandler
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func validCookieName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || contains("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}

func contains(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

func defaultErrorHandler(w http.ResponseWriter, _ *http.Request, err error) {
	if errors.Is(err, ErrTooLarge) {
		http.Error(w, "session too large", http.StatusInternalServerError)
		return
	}
	http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
}

type ctxKey struct{}

// From returns the session of a request that went through a Manager's Handler, or nil.
// Every method and helper accepts a nil *Session and reports ErrNoSession.
func From(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}

// Handler loads the session before next runs and commits its changes before the response
// headers go out (or after next returns if it wrote nothing).
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server); srv != nil {
			if _, ok := m.checked.Load(srv); !ok {
				m.checkServer(r, srv)
			}
		}
		x := &exchange{} // one allocation for the session and the writer
		s := &x.s
		m.load(r, s)
		// A response may depend on the session: shared caches must key it by cookie.
		w.Header().Add("Vary", "Cookie")
		x.w = writer{ResponseWriter: w, s: s, r: r}
		next.ServeHTTP(&x.w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
		x.w.finish()
	})
}

// checkServer warns once per server if it lets a request run longer than Grace: such a
// request, overlapping a login, can lose its changes (see Options.Grace).
func (m *Manager) checkServer(r *http.Request, srv *http.Server) {
	if _, seen := m.checked.LoadOrStore(srv, struct{}{}); seen {
		return
	}
	if wt := srv.WriteTimeout; wt > 0 && wt >= m.opts.Grace {
		m.opts.Logger.WarnContext(r.Context(), "session: Options.Grace must exceed the server's WriteTimeout, "+
			"or a request overlapping a login can lose its changes", "grace", m.opts.Grace, "write_timeout", wt)
	}
}

type exchange struct {
	s Session
	w writer
}

// load reads the cookie and the stored session into s. Malformed or unknown cookies yield
// a new anonymous session; a store failure yields a failed session.
func (m *Manager) load(r *http.Request, s *Session) {
	s.m = m
	token, ok := cookieValue(r.Header, m.opts.CookieName)
	if !ok {
		return
	}
	key, ok := parseToken(token)
	if !ok {
		return
	}
	ctx := r.Context()
	start := m.opts.Now()
	sctx, cancel := m.storeCtx(ctx)
	rec, err := m.store.Load(sctx, key)
	cancel()
	now := m.opts.Now()
	m.met.observe(ctx, opLoad, start, now, err)
	switch {
	case errors.Is(err, ErrRenewed):
		s.stale = true // see ErrRenewed: no session, and the cookie is left alone
		return
	case errors.Is(err, ErrNotFound):
		return
	case err != nil:
		s.err = storeErr("load", err)
		return
	}
	if !now.Before(rec.Expires) || !now.Before(rec.Created.Add(m.opts.Lifetime)) {
		return // expired: the store may not have forgotten it yet
	}
	s.token, s.key, s.stored, s.rec = token, key, true, rec
	s.size = sizeOf(rec.Values)
	s.base = s.size
	if exp := m.expiry(rec.Created, now); exp.Sub(rec.Expires) >= m.opts.TouchInterval {
		s.touch = exp
	}
}

// expiry is the idle deadline from now, capped by the absolute lifetime.
func (m *Manager) expiry(created, now time.Time) time.Time {
	idle, abs := now.Add(m.opts.IdleTimeout), created.Add(m.opts.Lifetime)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// DestroyAll ends every session bound to user (see Session.SetUser): "log out everywhere".
// Every session bound before DestroyAll starts is ended, also one renewed meanwhile. A
// login that commits while DestroyAll runs either fails or survives as a later login; it
// stays bound, so the next DestroyAll ends it.
func (m *Manager) DestroyAll(ctx context.Context, user string) (int, error) {
	if err := checkName("user", user); err != nil {
		return 0, err
	}
	start := m.opts.Now()
	sctx, cancel := m.storeCtx(ctx)
	n, err := m.store.DestroyUser(sctx, user, m.opts.Grace)
	cancel()
	m.met.observe(ctx, opDestroyUser, start, m.opts.Now(), err)
	if err != nil {
		return n, storeErr("destroy user sessions", err)
	}
	m.met.destroyed.Add(ctx, int64(n))
	return n, nil
}

func sizeOf(values map[string][]byte) int {
	n := 0
	for k, v := range values {
		n += len(k) + len(v)
	}
	return n
}

// storeCtx applies Options.StoreTimeout to one store call.
func (m *Manager) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, m.opts.StoreTimeout)
}
