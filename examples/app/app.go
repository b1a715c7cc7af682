package app

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/assets"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/observe"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/session"
)

//go:embed static
var staticFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

// Static returns the application's static files (style.css, app.js,
// logo.svg) for assets.New, or for a stage that serves them elsewhere (an
// edge, a CDN origin).
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Config holds the components a stage swaps. Store is required; every other
// zero field is the single-box default.
type Config struct {
	// Store keeps users and posts (SQLStore, RemoteStore, WithBreaker, …).
	Store Store
	// Sessions keeps sessions; nil is an in-process session.MemoryStore
	// (owned and closed by the App). A stage with several web servers
	// passes a shared one (session/redisstore).
	Sessions session.Store
	// SessionOptions configure the session manager. The examples serve
	// plain HTTP on loopback and set Insecure.
	SessionOptions session.Options
	// Assets serves the static files; nil builds one from Static() under
	// /assets/ (owned and closed by the App).
	Assets *assets.Assets
	// FeedCache, if set, answers feed reads: a *cache.Aside (cache-aside,
	// one load per key however many readers miss together; its TTL bounds
	// how stale a feed may be), a *rediscache.Cache (the same over a shared
	// Redis tier), or any other FeedCache. nil reads the store every time.
	FeedCache FeedCache
	// Queue, if set, receives a WelcomeMail job (queue MailQueue) per
	// signup. nil sends the mail inline through Mailer, in the signup
	// request (slow signups: what stage 06 fixes).
	Queue *queue.Client
	// Mailer sends welcome mails inline when Queue is nil; nil with a nil
	// Queue sends none.
	Mailer *Mailer
	// Observe, if set, records the golden signals of every request
	// (observe.Middleware) and gives each request a trace-correlated logger.
	Observe *observe.Middleware
	// Wrap adds middleware around the routes, inside Observe and outside
	// the session manager (e.g. replica.Router.Middleware for
	// read-your-writes tokens). Applied in order: Wrap[0] is outermost.
	Wrap []func(http.Handler) http.Handler
	// KDFIterations is PBKDF2's iteration count for new passwords; 0 means
	// DefaultKDFIterations; below MinKDFIterations or above MaxKDFIterations
	// is an error.
	KDFIterations int
	// StoreTimeout bounds each store call of a request, so a hung database
	// fails requests fast; 0 means 2 s; negative is an error.
	StoreTimeout time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// FeedCache answers feed reads from a cache, calling load on a miss.
// *cache.Aside[string, []Post] and *rediscache.Cache[[]Post] satisfy it.
type FeedCache interface {
	Get(ctx context.Context, key string, load cache.Loader[string, []Post]) ([]Post, error)
}

// Validate reports the first field of c that cannot work, wrapping
// ErrInvalidOptions.
func (c Config) Validate() error {
	switch {
	case c.Store == nil:
		return fmt.Errorf("%w: Store: nil", ErrInvalidOptions)
	case c.KDFIterations != 0 && (c.KDFIterations < MinKDFIterations || c.KDFIterations > MaxKDFIterations):
		return fmt.Errorf("%w: KDFIterations %d: must be 0 or %d to %d", ErrInvalidOptions, c.KDFIterations, MinKDFIterations, MaxKDFIterations)
	case c.StoreTimeout < 0:
		return fmt.Errorf("%w: StoreTimeout %v: must be ≥ 0", ErrInvalidOptions, c.StoreTimeout)
	}
	return nil
}

// Stats counts what the application did since New. The load generator
// counts requests; these count outcomes the HTTP status cannot show.
type Stats struct {
	Signups, Logins, LoginFailures, Posts, FeedReads int64
	MailsQueued, MailsInline, MailErrors             int64
}

// App is the application: an http.Handler over a Config. Build it with New;
// Close releases what New built.
type App struct {
	cfg       Config
	handler   http.Handler
	tmpl      *template.Template
	ready     *health.Checker
	closers   []func() error
	iter      int
	dummy     string
	storeTime time.Duration
	log       *slog.Logger

	signups, logins, loginFailures, posts, feedReads atomic.Int64
	mailsQueued, mailsInline, mailErrors             atomic.Int64
}

// New builds the application from cfg.
func New(cfg Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, iter: cfg.KDFIterations, storeTime: cfg.StoreTimeout, log: cfg.Logger}
	if a.iter == 0 {
		a.iter = DefaultKDFIterations
	}
	a.dummy = dummyHash(a.iter)
	if a.storeTime == 0 {
		a.storeTime = 2 * time.Second
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.cfg.Now == nil {
		a.cfg.Now = time.Now
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if cfg.Sessions == nil {
		ms, err := session.NewMemoryStore(session.MemoryOptions{})
		if err != nil {
			return nil, fmt.Errorf("app: sessions: %w", err)
		}
		a.cfg.Sessions = ms
		a.closers = append(a.closers, ms.Close)
	}
	mgr, err := session.New(a.cfg.Sessions, cfg.SessionOptions)
	if err != nil {
		return nil, fmt.Errorf("app: sessions: %w", err)
	}
	if cfg.Assets == nil {
		as, err := assets.New(Static(), assets.Options{Logger: a.log})
		if err != nil {
			return nil, fmt.Errorf("app: assets: %w", err)
		}
		a.cfg.Assets = as
		a.closers = append(a.closers, as.Close)
	}
	a.tmpl, err = template.New("").Funcs(a.cfg.Assets.FuncMap()).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("app: templates: %w", err)
	}
	a.ready, err = health.NewChecker(health.CheckerOptions{Timeout: a.storeTime, CacheTTL: 250 * time.Millisecond, Logger: a.log})
	if err != nil {
		return nil, fmt.Errorf("app: readiness: %w", err)
	}
	a.closers = append(a.closers, a.ready.Close)
	if err := a.ready.Add(health.Check{Name: "store", Func: cfg.Store.Ping}); err != nil {
		return nil, fmt.Errorf("app: readiness: %w", err)
	}
	a.handler = a.routes(mgr)
	ok = true
	return a, nil
}

// ServeHTTP implements http.Handler.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Readiness is the checker behind /readyz (the store answers): hand it to
// health.Drain on shutdown, or read its Status.
func (a *App) Readiness() *health.Checker { return a.ready }

// Stats returns the counts so far.
func (a *App) Stats() Stats {
	return Stats{
		Signups: a.signups.Load(), Logins: a.logins.Load(), LoginFailures: a.loginFailures.Load(),
		Posts: a.posts.Load(), FeedReads: a.feedReads.Load(),
		MailsQueued: a.mailsQueued.Load(), MailsInline: a.mailsInline.Load(), MailErrors: a.mailErrors.Load(),
	}
}

// Close releases what New built (the default session store, assets and the
// readiness checker); the components passed in Config stay the caller's.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i]())
	}
	a.closers = nil
	return errors.Join(errs...)
}

func (a *App) routes(mgr *session.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/signup", a.apiSignup)
	mux.HandleFunc("POST /api/login", a.apiLogin)
	mux.HandleFunc("POST /api/logout", a.apiLogout)
	mux.HandleFunc("POST /api/posts", a.apiPost)
	mux.HandleFunc("GET /api/feed", a.apiFeed)
	mux.HandleFunc("GET /api/users/{name}/posts", a.apiUserPosts)
	mux.HandleFunc("GET /{$}", a.pageIndex)
	mux.HandleFunc("POST /signup", a.formSignup)
	mux.HandleFunc("POST /login", a.formLogin)
	mux.HandleFunc("POST /logout", a.formLogout)
	mux.HandleFunc("POST /post", a.formPost)
	mux.Handle("GET /assets/", a.cfg.Assets)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("GET /readyz", health.Handler(a.ready, health.HandlerOptions{}))

	var h http.Handler = mux
	if a.cfg.Observe != nil {
		h = a.cfg.Observe.Route(h)
	}
	h = mgr.Handler(h)
	for i := len(a.cfg.Wrap) - 1; i >= 0; i-- {
		h = a.cfg.Wrap[i](h)
	}
	h = http.NewCrossOriginProtection().Handler(h) // CSRF: refuse cross-site form posts
	if a.cfg.Observe != nil {
		h = a.cfg.Observe.Wrap(h)
	}
	return h
}

// ---- operations shared by the JSON API and the HTML forms ----

type credentials struct {
	Name     string `json:"name"`
	Password string `json:"password"`
}

func (c credentials) validate() error {
	switch {
	case c.Name == "" || len(c.Name) > MaxNameLen:
		return fmt.Errorf("%w: name must be 1 to %d bytes", ErrInvalid, MaxNameLen)
	case !validName(c.Name):
		return fmt.Errorf("%w: name may hold only letters, digits, '-', '_' and '.'", ErrInvalid)
	case len(c.Password) < MinPasswordLen || len(c.Password) > MaxPasswordLen:
		return fmt.Errorf("%w: password must be %d to %d bytes", ErrInvalid, MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

func validName(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func (a *App) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.storeTime)
}

// signup registers c and logs the client in. With an idempotency key (""
// for none) and a KeyedStore, a repeat of a signup that succeeded logs the
// client in again if the password is the user's, and does nothing else.
func (a *App) signup(r *http.Request, c credentials, key string) error {
	if err := c.validate(); err != nil {
		return err
	}
	hash, err := HashPassword(c.Password, a.iter)
	if err != nil {
		return err
	}
	ctx, cancel := a.storeCtx(r.Context())
	defer cancel()
	now := a.cfg.Now()
	u := User{Name: c.Name, Created: now}
	replayed, err := false, ErrKeyUnsupported
	if ks := a.keyedStore(key); ks != nil {
		replayed, err = ks.CreateUserKeyed(ctx, u, hash, key)
	}
	if errors.Is(err, ErrKeyUnsupported) {
		err = a.cfg.Store.CreateUser(ctx, u, hash)
	}
	if err != nil {
		return err
	}
	if replayed {
		_, stored, err := a.cfg.Store.UserByName(ctx, c.Name)
		if err != nil {
			return err
		}
		if !CheckPassword(stored, c.Password) {
			return fmt.Errorf("%w: signup of %q with another password", ErrKeyReused, c.Name)
		}
		return a.login(r, c.Name)
	}
	a.signups.Add(1)
	if err := a.login(r, c.Name); err != nil {
		return err
	}
	a.welcome(ctx, WelcomeMail{Name: c.Name, Signup: now})
	return nil
}

// welcome queues (or sends inline) the welcome mail. The user exists by now:
// a failure is logged and counted, not returned, so that the client does not
// retry a signup that succeeded. (A transactional enqueue, pgqueue's
// EnqueueTx in the signup's transaction, closes this gap where the queue
// lives in the database.)
func (a *App) welcome(ctx context.Context, m WelcomeMail) {
	switch {
	case a.cfg.Queue != nil:
		_, err := a.cfg.Queue.Enqueue(ctx, m, queue.EnqueueOptions{Queue: MailQueue, UniqueKey: "welcome:" + m.Name})
		if err != nil {
			a.mailErrors.Add(1)
			a.log.ErrorContext(ctx, "app: welcome mail not queued", "user", m.Name, "err", err)
			return
		}
		a.mailsQueued.Add(1)
	case a.cfg.Mailer != nil:
		if err := a.cfg.Mailer.Send(ctx, m, "", 1); err != nil {
			a.mailErrors.Add(1)
			a.log.ErrorContext(ctx, "app: welcome mail not sent", "user", m.Name, "err", err)
			return
		}
		a.mailsInline.Add(1)
	}
}

func (a *App) authenticate(r *http.Request, c credentials) error {
	if c.Name == "" || len(c.Name) > MaxNameLen || len(c.Password) > MaxPasswordLen {
		a.loginFailures.Add(1)
		return errBadLogin
	}
	ctx, cancel := a.storeCtx(r.Context())
	defer cancel()
	_, hash, err := a.cfg.Store.UserByName(ctx, c.Name)
	if errors.Is(err, ErrNotFound) {
		a.loginFailures.Add(1)
		CheckPassword(a.dummy, c.Password) // same cost as a wrong password: no user enumeration by timing
		return errBadLogin
	}
	if err != nil {
		return err
	}
	if !CheckPassword(hash, c.Password) {
		a.loginFailures.Add(1)
		return errBadLogin
	}
	a.logins.Add(1)
	return a.login(r, c.Name)
}

var errBadLogin = errors.New("app: wrong name or password")

// dummyHash is checked when the user does not exist, at the configured
// iteration count, so an unknown name costs what a wrong password costs.
func dummyHash(iter int) string {
	return kdfScheme + "$" + strconv.Itoa(iter) + "$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
}

func (a *App) login(r *http.Request, name string) error {
	s := session.From(r.Context())
	if s == nil {
		return errors.New("app: no session manager")
	}
	if err := s.RenewID(r.Context()); err != nil {
		return fmt.Errorf("app: session: %w", err)
	}
	if err := s.SetUser(name); err != nil {
		return fmt.Errorf("app: session: %w", err)
	}
	return nil
}

func (a *App) logout(r *http.Request) error {
	if s := session.From(r.Context()); s != nil {
		return s.Destroy(r.Context())
	}
	return nil
}

func currentUser(r *http.Request) string {
	if s := session.From(r.Context()); s != nil {
		return s.User()
	}
	return ""
}

// post stores a post of the logged-in user. With an idempotency key (""
// for none) and a KeyedStore, a repeat returns the first request's post.
func (a *App) post(r *http.Request, body, key string) (Post, error) {
	user := currentUser(r)
	if user == "" {
		return Post{}, errLoggedOut
	}
	body = strings.TrimSpace(body)
	if body == "" || len(body) > MaxPostLen || !utf8.ValidString(body) {
		return Post{}, fmt.Errorf("%w: a post is 1 to %d bytes of UTF-8", ErrInvalid, MaxPostLen)
	}
	p := Post{Author: user, Body: body, Created: a.cfg.Now().UTC()}
	ctx, cancel := a.storeCtx(r.Context())
	defer cancel()
	if ks := a.keyedStore(key); ks != nil {
		stored, replayed, err := ks.CreatePostKeyed(ctx, p, key)
		if !errors.Is(err, ErrKeyUnsupported) {
			if err == nil && !replayed {
				a.posts.Add(1)
			}
			return stored, err
		}
	}
	if err := a.cfg.Store.CreatePost(ctx, p); err != nil {
		return Post{}, err
	}
	a.posts.Add(1)
	return p, nil
}

var errLoggedOut = errors.New("app: log in first")

func (a *App) feed(r *http.Request, limit int) ([]Post, error) {
	ctx, cancel := a.storeCtx(r.Context())
	defer cancel()
	a.feedReads.Add(1)
	if a.cfg.FeedCache == nil {
		return a.cfg.Store.Feed(ctx, limit)
	}
	return a.cfg.FeedCache.Get(ctx, "feed:"+strconv.Itoa(limit), func(ctx context.Context, _ string) ([]Post, error) {
		return a.cfg.Store.Feed(ctx, limit)
	})
}

func parseLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return DefaultFeed, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxFeedLimit {
		return 0, fmt.Errorf("%w: limit %q: want 1 to %d", ErrInvalid, s, MaxFeedLimit)
	}
	return n, nil
}

// status maps an operation's error to an HTTP status and a message safe to
// show (internal errors are logged, not shown).
func (a *App) status(r *http.Request, err error) (int, string) {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, ErrTaken):
		return http.StatusConflict, "name taken"
	case errors.Is(err, ErrKeyReused):
		return http.StatusUnprocessableEntity, "Idempotency-Key already used for another request"
	case errors.Is(err, errBadLogin):
		return http.StatusUnauthorized, "wrong name or password"
	case errors.Is(err, errLoggedOut):
		return http.StatusUnauthorized, "log in first"
	case errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "service unavailable, try again"
	case errors.Is(err, context.Canceled):
		return 499, "client closed request"
	}
	observe.Logger(r.Context()).ErrorContext(r.Context(), "app: request failed", "err", err)
	return http.StatusInternalServerError, "internal error"
}

// ---- JSON API ----

const maxBody = 4 << 10

func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrInvalid, err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *App) apiError(w http.ResponseWriter, r *http.Request, err error) {
	code, msg := a.status(r, err)
	writeJSON(w, code, map[string]string{"error": msg})
}

func (a *App) apiSignup(w http.ResponseWriter, r *http.Request) {
	key, err := requestKey(r)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	var c credentials
	if err := decodeJSON(w, r, &c); err != nil {
		a.apiError(w, r, err)
		return
	}
	if err := a.signup(r, c, key); err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": c.Name})
}

// apiLogin logs in. A login is safe to repeat (a repeat opens another
// session), so an idempotency key is only checked, not recorded.
func (a *App) apiLogin(w http.ResponseWriter, r *http.Request) {
	if _, err := requestKey(r); err != nil {
		a.apiError(w, r, err)
		return
	}
	var c credentials
	if err := decodeJSON(w, r, &c); err != nil {
		a.apiError(w, r, err)
		return
	}
	if err := a.authenticate(r, c); err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"name": c.Name})
}

func (a *App) apiLogout(w http.ResponseWriter, r *http.Request) {
	if _, err := requestKey(r); err != nil {
		a.apiError(w, r, err)
		return
	}
	if err := a.logout(r); err != nil {
		a.apiError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *App) apiPost(w http.ResponseWriter, r *http.Request) {
	key, err := requestKey(r)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		a.apiError(w, r, err)
		return
	}
	p, err := a.post(r, in.Body, key)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]Post{"post": p})
}

func (a *App) apiFeed(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	posts, err := a.feed(r, limit)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]Post{"posts": posts})
}

func (a *App) apiUserPosts(w http.ResponseWriter, r *http.Request) {
	limit, err := parseLimit(r)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	ctx, cancel := a.storeCtx(r.Context())
	defer cancel()
	posts, err := a.cfg.Store.UserPosts(ctx, r.PathValue("name"), limit)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string][]Post{"posts": posts})
}

// ---- HTML pages ----

type pageData struct {
	User  string
	Posts []Post
	Error string
}

func (a *App) render(w http.ResponseWriter, r *http.Request, code int, d pageData) {
	if d.Posts == nil && d.Error == "" {
		posts, err := a.feed(r, DefaultFeed)
		if err != nil {
			code, d.Error = a.status(r, err)
		}
		d.Posts = posts
	}
	d.User = currentUser(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
	w.WriteHeader(code)
	if err := a.tmpl.ExecuteTemplate(w, "index.html", d); err != nil {
		observe.Logger(r.Context()).ErrorContext(r.Context(), "app: render", "err", err)
	}
}

func (a *App) pageIndex(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, pageData{})
}

func (a *App) form(w http.ResponseWriter, r *http.Request, op func() error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		a.render(w, r, http.StatusBadRequest, pageData{Error: "bad form"})
		return
	}
	if err := op(); err != nil {
		code, msg := a.status(r, err)
		a.render(w, r, code, pageData{Error: msg})
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func formCredentials(r *http.Request) credentials {
	return credentials{Name: r.PostFormValue("name"), Password: r.PostFormValue("password")}
}

func (a *App) formSignup(w http.ResponseWriter, r *http.Request) {
	a.form(w, r, func() error { return a.signup(r, formCredentials(r), "") })
}

func (a *App) formLogin(w http.ResponseWriter, r *http.Request) {
	a.form(w, r, func() error { return a.authenticate(r, formCredentials(r)) })
}

func (a *App) formLogout(w http.ResponseWriter, r *http.Request) {
	a.form(w, r, func() error { return a.logout(r) })
}

func (a *App) formPost(w http.ResponseWriter, r *http.Request) {
	a.form(w, r, func() error { _, err := a.post(r, r.PostFormValue("body"), ""); return err })
}
