package observe

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"sort"
	"sync"
	"time"
)

// Names of the actions the page offers on its rows when registered with
// [Page.Handle]: a retry button on a queue with dead letters (target: the
// queue's name), a drain button on an lb backend (target: the backend).
const (
	ActionRetryDead    = "queue.retry-dead"
	ActionDrainBackend = "lb.drain"
)

// PageOptions configure a [Page]. The zero value shows every section whose
// instruments report, refuses every action, and refreshes every 5 s.
type PageOptions struct {
	// Title heads the page; "" → "ladder status".
	Title string
	// Authorize decides who may see the page and run actions. nil: anyone
	// who reaches the page may look, and every action is refused with 403.
	// Set: a request it refuses gets 403, for viewing and for actions.
	Authorize func(r *http.Request) bool
	// Advisor's latest report is shown (the page does not evaluate it: run
	// Advisor.Run next to the page).
	Advisor *Advisor
	// SLOs are shown with their burn rates.
	SLOs []*SLO
	// HotKeys supplies the shard section's hot keys (no metric carries keys),
	// e.g. from shard.Hot.TopKeys. Optional.
	HotKeys func() []HotKey
	// Refresh is the browser's auto-refresh period; 0 → 5 s; < 0 turns it off.
	Refresh time.Duration
	// Interval is the spacing of chart samples; 0 → 5 s.
	Interval time.Duration
	// History is how many samples the charts keep; 0 → 120 (10 minutes at 5 s).
	History int
	// Now is the page's clock; nil → time.Now.
	Now func() time.Time
	// Logger receives failed actions; nil → slog.Default().
	Logger *slog.Logger
}

func (o PageOptions) validate() error {
	switch {
	case o.Interval < 0:
		return fmt.Errorf("%w: Interval %v: must be ≥ 0", ErrInvalidOptions, o.Interval)
	case o.History < 0:
		return fmt.Errorf("%w: History %d: must be ≥ 0", ErrInvalidOptions, o.History)
	}
	return nil
}

// ActionFunc runs a page action on a target (a queue's or backend's name,
// or "" for an action with no row). Its error is shown on the page.
type ActionFunc func(ctx context.Context, target string) error

type pageAction struct {
	label string
	fn    ActionFunc
}

// Page is the live status page: an http.Handler rendering, on the server,
// every section whose instruments report (backends, health, breakers,
// cache, queues, replicas, shards), golden-signal charts over the last
// minutes, SLO burn rates and the advisor's advice. No JavaScript.
//
// It is for operators: mount it on an admin listener, not the public one
// (for example a second http.Server on 127.0.0.1 or an internal port), and
// set Authorize. Actions are POSTs carrying a CSRF token bound to the
// viewer (a per-browser nonce in a SameSite=Strict cookie, HMAC-signed
// with the time it was issued, valid for an hour) and refused
// cross-origin (http.CrossOriginProtection).
type Page struct {
	src  Collector
	opts PageOptions
	key  []byte // CSRF token key, per page
	xo   *http.CrossOriginProtection

	mu        sync.Mutex
	viewToken string // the token of the page being rendered
	actions   map[string]pageAction
	hist      history
	prev      *Snapshot
	prevAt    time.Time
}

// NewPage returns a status page reading c.
func NewPage(c Collector, opts PageOptions) (*Page, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil Collector", ErrInvalidOptions)
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.Title == "" {
		opts.Title = "ladder status"
	}
	if opts.Refresh == 0 {
		opts.Refresh = 5 * time.Second
	}
	if opts.Interval == 0 {
		opts.Interval = 5 * time.Second
	}
	if opts.History == 0 {
		opts.History = 120
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &Page{src: c, opts: opts, key: key, xo: http.NewCrossOriginProtection(),
		actions: map[string]pageAction{}, hist: history{buf: make([]sample, opts.History)}}, nil
}

// Handle registers an action: ActionRetryDead and ActionDrainBackend appear
// on their rows, any other name as a button of its own. label is the
// button's text.
func (p *Page) Handle(name, label string, fn ActionFunc) error {
	if name == "" || fn == nil {
		return fmt.Errorf("%w: Handle: empty name or nil func", ErrInvalidOptions)
	}
	if label == "" {
		label = name
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.actions[name] = pageAction{label: label, fn: fn}
	return nil
}

// Sample collects once and, when Interval has passed since the last sample,
// adds one to the charts' history. Rendering samples too; Run keeps the
// history going while nobody looks.
func (p *Page) Sample(ctx context.Context) (*Snapshot, Signals, error) {
	snap, err := Collect(ctx, p.src)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	if p.prev == nil {
		p.prev, p.prevAt = snap, now
		return snap, deriveSignals(nil, snap, 0, runtime.NumCPU()), nil
	}
	dt := now.Sub(p.prevAt)
	sig := deriveSignals(p.prev, snap, dt, runtime.NumCPU())
	if dt >= p.opts.Interval {
		p.hist.add(sample{At: now, Signals: sig})
		p.prev, p.prevAt = snap, now
	}
	return snap, sig, nil
}

// Run samples every Interval until ctx is done and returns ctx.Err().
func (p *Page) Run(ctx context.Context) error {
	t := time.NewTicker(p.opts.Interval)
	defer t.Stop()
	for {
		if _, _, err := p.Sample(ctx); err != nil && ctx.Err() == nil {
			p.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "observe: status page sample failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ServeHTTP renders the page on GET and HEAD and runs an action on POST.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	if p.opts.Authorize != nil && !p.opts.Authorize(r) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.render(w, r)
	case http.MethodPost:
		p.act(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// Action forms carry a CSRF token bound to the viewer: each browser gets
// a random nonce in a cookie (HttpOnly, SameSite=Strict) the first time
// it loads the page, and the token is an HMAC, under the page's key, of
// that nonce and the time it was issued. A POST needs the cookie and a
// token made for it, no older than tokenMaxAge: a token seen by one viewer
// (in a screenshot, a log, a shared link) is worthless to another, and a
// form left open too long, or from before a restart, is refused (reload).
const (
	viewerCookie = "observe_page_viewer"
	tokenMaxAge  = time.Hour
	nonceLen     = 16
)

// viewer returns the nonce of r's viewer; fresh is true when r had none
// (or a malformed one) and a new one was made, to be set as a cookie.
func viewer(r *http.Request) (nonce string, fresh bool) {
	if n := viewerNonce(r); n != "" {
		return n, false
	}
	b := make([]byte, nonceLen)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b), true
}

// viewerNonce returns the first well-formed viewer nonce r carries, "" if
// none. A browser may send several viewer cookies (one set by a sibling app
// on the parent domain or at a longer path comes first): the page and its
// actions must agree on the same one, and a foreign malformed one must not
// hide the page's own.
func viewerNonce(r *http.Request) string {
	for _, c := range r.CookiesNamed(viewerCookie) {
		if len(c.Value) == base64.RawURLEncoding.EncodedLen(nonceLen) {
			if b, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil && len(b) == nonceLen {
				return c.Value
			}
		}
	}
	return ""
}

// token is the CSRF token for viewer nonce, issued at (unix seconds).
func (p *Page) token(nonce string, at int64) string {
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(at))
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("observe-page-action\x00"))
	m.Write(ts[:])
	m.Write([]byte(nonce))
	return base64.RawURLEncoding.EncodeToString(append(ts[:], m.Sum(nil)...))
}

// validToken reports whether tok was issued by this page for nonce within
// tokenMaxAge of now.
func (p *Page) validToken(tok, nonce string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) != 8+sha256.Size || nonce == "" {
		return false
	}
	at := int64(binary.BigEndian.Uint64(b[:8]))
	age := now.Unix() - at
	if age < -60 || age > int64(tokenMaxAge/time.Second) { // a minute of clock slack
		return false
	}
	return hmac.Equal([]byte(tok), []byte(p.token(nonce, at)))
}

func (p *Page) act(w http.ResponseWriter, r *http.Request) {
	if p.opts.Authorize == nil {
		http.Error(w, "forbidden: actions need PageOptions.Authorize", http.StatusForbidden)
		return
	}
	if err := p.xo.Check(r); err != nil {
		http.Error(w, "forbidden: cross-origin request", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	if !p.validToken(r.PostForm.Get("csrf"), viewerNonce(r), p.opts.Now()) {
		http.Error(w, "forbidden: missing, expired or foreign CSRF token (reload the page)", http.StatusForbidden)
		return
	}
	name, target := r.PostForm.Get("action"), r.PostForm.Get("target")
	p.mu.Lock()
	a, ok := p.actions[name]
	p.mu.Unlock()
	if !ok {
		http.Error(w, "unknown action", http.StatusNotFound)
		return
	}
	err := runPageAction(r.Context(), a.fn, target)
	msg := a.label + " " + target + ": done"
	q := url.Values{}
	if err != nil {
		p.opts.Logger.LogAttrs(r.Context(), slog.LevelError, "observe: page action failed",
			slog.String("action", name), slog.String("target", target), slog.Any("error", err))
		msg = a.label + " " + target + ": " + err.Error()
		q.Set("failed", "1")
	}
	q.Set("msg", msg)
	q.Set("sig", p.flashSig(msg, q.Get("failed")))
	// A query-only reference: the browser resolves it against the URL it
	// posted to, so the page comes back under any prefix it is mounted at
	// (r.URL.Path has lost an http.StripPrefix's prefix).
	w.Header().Set("Location", "?"+q.Encode())
	w.WriteHeader(http.StatusSeeOther)
}

// flashSig signs a flash message so the page shows only its own: a link
// someone sends an operator cannot make the page say anything.
func (p *Page) flashSig(msg, failed string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("observe-page-flash\x00" + failed + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func runPageAction(ctx context.Context, fn ActionFunc, target string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: page action: %v", ErrPanic, p)
		}
	}()
	return fn(ctx, target)
}

func (p *Page) render(w http.ResponseWriter, r *http.Request) {
	snap, sig, err := p.Sample(r.Context())
	if err != nil {
		http.Error(w, "collect: "+err.Error(), http.StatusInternalServerError)
		return
	}
	v := pageView{Title: p.opts.Title, At: p.opts.Now(), CanAct: p.opts.Authorize != nil}
	if v.CanAct {
		nonce, fresh := viewer(r)
		if fresh {
			http.SetCookie(w, &http.Cookie{Name: viewerCookie, Value: nonce, HttpOnly: true,
				Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		}
		v.Token = p.token(nonce, v.At.Unix())
	}
	if p.opts.Refresh > 0 {
		v.Refresh = max(int(p.opts.Refresh/time.Second), 1)
	}
	q := r.URL.Query()
	if m, failed := q.Get("msg"), q.Get("failed"); m != "" && hmac.Equal([]byte(q.Get("sig")), []byte(p.flashSig(m, failed))) {
		v.Flash, v.FlashBad = m, failed != ""
	}
	p.mu.Lock()
	p.viewToken = v.Token // for pickAction, under p.mu
	v.Charts = charts(p.hist.all())
	v.Backends, v.Health, v.Breakers = p.backends(snap), p.health(snap), p.breakers(snap)
	v.Cache, v.Queues, v.Replicas, v.Shards = p.cache(snap, sig), p.queues(snap), p.replicas(snap), p.shards(snap)
	hot := p.opts.HotKeys
	for _, n := range sortedKeys(p.actions) {
		if n != ActionRetryDead && n != ActionDrainBackend {
			v.Actions = append(v.Actions, actionView{Name: n, Label: p.actions[n].label, Token: v.Token})
		}
	}
	p.mu.Unlock()
	if v.Shards != nil && hot != nil {
		v.Shards.HotKeys = p.hotKeys(r.Context(), hot)
		if n := len(v.Shards.HotKeys); n > maxSectionRows {
			v.Shards.HotKeys, v.Shards.HotMore = v.Shards.HotKeys[:maxSectionRows], n-maxSectionRows
		}
	}
	if !v.CanAct {
		v.Actions = nil
		stripActions(v.Backends, v.Queues)
	}
	for _, s := range p.opts.SLOs {
		v.SLOs = append(v.SLOs, s.Status())
	}
	if a := p.opts.Advisor; a != nil {
		rep := a.Last()
		av := &adviceView{Report: rep, Stale: rep.At.IsZero(), Advices: rep.Advice}
		sort.SliceStable(av.Advices, func(i, j int) bool { return av.Advices[i].Rule < av.Advices[j].Rule })
		v.Advice = av
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method == http.MethodHead {
		return
	}
	if err := pageTemplate.Execute(w, v); err != nil {
		p.opts.Logger.LogAttrs(r.Context(), slog.LevelWarn, "observe: status page render failed", slog.Any("error", err))
	}
}

// hotKeys calls the user's HotKeys outside the page's lock; a panic there
// is logged and the section shows no keys.
func (p *Page) hotKeys(ctx context.Context, fn func() []HotKey) (keys []HotKey) {
	defer func() {
		if r := recover(); r != nil {
			p.opts.Logger.LogAttrs(ctx, slog.LevelError, "observe: status page HotKeys panicked", slog.Any("panic", r))
			keys = nil
		}
	}()
	return fn()
}

func stripActions(ts ...*tableView) {
	for _, t := range ts {
		if t == nil {
			continue
		}
		for i := range t.Rows {
			t.Rows[i].Action = nil
		}
	}
}
