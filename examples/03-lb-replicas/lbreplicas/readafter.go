package lbreplicas

import (
	"context"
	"net/http"
	"sync"
)

// The read-your-writes token of replica.Router (signed: a position and an
// expiry) has to reach the router, which runs in the data tier. A user
// carries it between requests in a cookie, which the web server (any of
// them) puts on its calls to the data tier in the router's header; the
// router answers a write with a new token in the same header, which goes
// back to the user as the cookie. Where the web servers hold the router
// themselves (PostgreSQL reached directly), router.Middleware does all of
// this in one line.
const (
	readAfterCookie = "ladder_rw"
	readAfterHeader = "Ladder-Read-After" // replica.Options.Header's default
)

type readAfterKey struct{}

// readAfterToken is one request's token: what the user sent, then what the
// data tier answered.
type readAfterToken struct {
	mu       sync.Mutex
	tok      string
	changed  bool
	hdrWrote bool
}

func (t *readAfterToken) get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tok
}

func (t *readAfterToken) set(tok string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tok, t.changed = tok, true
}

// readAfter is the web server's middleware: the user's token into the
// request's context, the new one (if a write made one) into a cookie.
func readAfter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := &readAfterToken{}
		if c, err := r.Cookie(readAfterCookie); err == nil {
			t.tok = c.Value
		}
		ctx := context.WithValue(r.Context(), readAfterKey{}, t)
		next.ServeHTTP(&readAfterWriter{ResponseWriter: w, t: t}, r.WithContext(ctx))
	})
}

type readAfterWriter struct {
	http.ResponseWriter
	t *readAfterToken
}

func (w *readAfterWriter) setCookie() {
	w.t.mu.Lock()
	defer w.t.mu.Unlock()
	if w.t.hdrWrote {
		return
	}
	w.t.hdrWrote = true
	if w.t.changed && w.t.tok != "" {
		http.SetCookie(w.ResponseWriter, &http.Cookie{Name: readAfterCookie, Value: w.t.tok, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, MaxAge: 60})
	}
}

func (w *readAfterWriter) WriteHeader(code int) {
	w.setCookie()
	w.ResponseWriter.WriteHeader(code)
}

func (w *readAfterWriter) Write(b []byte) (int, error) {
	w.setCookie()
	return w.ResponseWriter.Write(b)
}

func (w *readAfterWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// readAfterTransport carries the request's token to the data tier and the
// answer's back.
type readAfterTransport struct{ base http.RoundTripper }

func (rt readAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t, _ := req.Context().Value(readAfterKey{}).(*readAfterToken)
	if t != nil {
		if tok := t.get(); tok != "" {
			req = req.Clone(req.Context())
			req.Header.Set(readAfterHeader, tok)
		}
	}
	resp, err := rt.base.RoundTrip(req)
	if err == nil && t != nil {
		if tok := resp.Header.Get(readAfterHeader); tok != "" {
			t.set(tok)
		}
	}
	return resp, err
}
