package session

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// writer commits the session and sets the cookie before the response headers go out.
type writer struct {
	http.ResponseWriter
	s      *Session
	r      *http.Request
	wrote  bool // headers committed (by us or the handler)
	failed bool // the commit failed and ErrorHandler answered instead
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush, Hijack,
// deadlines).
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *writer) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		w.ResponseWriter.WriteHeader(code) // informational: headers are not final yet
		return
	}
	if !w.before() {
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.before() {
		return 0, errCommitted
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher for handlers that assert it directly.
func (w *writer) Flush() {
	if !w.before() {
		return
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack commits the session, as before the response headers, and hands the connection
// over (a WebSocket upgrade): changes made before are visible to other requests while the
// connection lives. A cookie for a new identifier cannot be sent on a hijacked connection:
// upgrade a request whose session already has its cookie.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.before() {
		return nil, nil, errCommitted
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

var errCommitted = errors.New("session: response replaced by ErrorHandler after a failed commit")

// before runs once, before the first header byte; it reports whether the handler may
// keep writing.
func (w *writer) before() bool {
	if w.wrote {
		return !w.failed
	}
	w.wrote = true
	s := w.s
	s.mu.Lock()
	err := s.err
	if err == nil {
		ctx, cancel := w.commitCtx()
		err = s.commit(ctx)
		cancel()
	}
	s.headersSent = true
	if err == nil || errors.Is(err, ErrNotFound) {
		w.setCookie()
	}
	s.mu.Unlock()
	if err != nil && !errors.Is(err, ErrNotFound) && s.err == nil {
		w.failed = true
		s.m.opts.Logger.ErrorContext(w.r.Context(), "session: commit failed", "error", err)
		// The handler's response is replaced: none of the headers it set for it (encoding,
		// caching, validators, length) may go out with the error.
		h := w.ResponseWriter.Header()
		clear(h)
		h.Set("Vary", "Cookie")
		s.m.opts.ErrorHandler(w.ResponseWriter, w.r, err)
		return false
	}
	return true
}

// commitCtx is what a commit runs under: the request's values without its
// cancellation, since a client that went away must not lose the change its
// handler made, bounded by StoreTimeout.
func (w *writer) commitCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(w.r.Context()), w.s.m.opts.StoreTimeout)
}

// setCookie adds the Set-Cookie header if the identifier changed; s.mu is held.
func (w *writer) setCookie() {
	s := w.s
	if !s.cookieDirty {
		return
	}
	s.cookieDirty = false
	c := w.s.m.cookie
	switch {
	case s.token == "":
		c.MaxAge = -1
	case s.stored || len(s.set) > 0:
		c.Value = s.token
		if s.m.opts.Persistent {
			c.MaxAge = int(s.rec.Created.Add(s.m.opts.Lifetime).Sub(s.m.opts.Now()) / time.Second)
		}
	default:
		return // an identifier with nothing stored behind it: no cookie needed yet
	}
	http.SetCookie(w.ResponseWriter, &c)
	// A shared cache may keep the response, but never hand this Set-Cookie to others.
	w.ResponseWriter.Header().Add("Cache-Control", `no-cache="Set-Cookie"`)
}

// finish runs after the handler: commit if it wrote nothing, or commit changes made after
// the headers went out.
func (w *writer) finish() {
	if !w.wrote {
		w.before()
		return
	}
	if w.failed {
		return
	}
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return
	}
	if !s.stored && s.token != "" && (len(s.set) > 0 || s.setUser) {
		s.m.opts.Logger.WarnContext(w.r.Context(),
			"session: values put after the response headers on a new session were dropped (no cookie can carry it)")
		return
	}
	ctx, cancel := w.commitCtx()
	defer cancel()
	if err := s.commit(ctx); err != nil && !errors.Is(err, ErrNotFound) {
		s.m.opts.Logger.ErrorContext(w.r.Context(), "session: commit after response failed", "error", err)
	}
}
