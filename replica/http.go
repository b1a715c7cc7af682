package replica

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"time"
)

// Token returns a signed token carrying s (its position and any pin), valid
// for Options.TokenTTL, for the client to send back with its next request,
// or "" if s has recorded no write. Tokens are opaque to clients and cannot
// be forged without the TokenKey; they carry no user data.
func (r *Router) Token(s *Session) string {
	if s == nil {
		return ""
	}
	pos, pin := s.Position(), s.pinUntil.Load()
	if pos == 0 && pin == 0 {
		return ""
	}
	st := tokenState{pos: pos}
	if pin != 0 {
		st.pinUntil = time.Unix(0, pin).UnixMilli() + 1 // round up: never shorten a pin
	}
	return encodeToken(r.keys[0], st, r.opts.Now().Add(r.opts.TokenTTL))
}

// SessionFromToken returns a session carrying what tok carries. An empty
// tok gives an empty session. A malformed, forged or expired token is never
// trusted: it is counted (ladder.replica.tokens.rejected), and the session
// it gives reads from the primary for Options.Pin, since the writes it
// stood for are unknown.
func (r *Router) SessionFromToken(tok string) *Session {
	s, _ := r.sessionFromToken(tok)
	return s
}

// sessionFromToken is SessionFromToken, also reporting whether tok was rejected.
func (r *Router) sessionFromToken(tok string) (*Session, bool) {
	s := new(Session)
	if tok == "" {
		return s, false
	}
	now := r.opts.Now()
	st, err := decodeToken(r.keys, tok, now)
	if err != nil {
		switch {
		case errors.Is(err, errTokenForged):
			r.met.tokens[1].Add(1)
		case errors.Is(err, errTokenExpired):
			r.met.tokens[2].Add(1)
		default:
			r.met.tokens[0].Add(1)
		}
		s.pinUntil.Store(now.Add(r.opts.Pin).UnixNano())
		return s, true
	}
	s.pos.Store(uint64(st.pos))
	if st.pinUntil != 0 {
		s.pinUntil.Store(time.UnixMilli(st.pinUntil).UnixNano())
	}
	return s, false
}

// Middleware gives each request a Session read from the token in its
// cookie (Options.Cookie) or header (Options.Header), so that a user's reads
// see the writes of their earlier requests, served by any instance sharing
// the TokenKey. When the handler writes through the router, the response
// carries the new token in a Set-Cookie (HttpOnly, Secure on TLS requests,
// SameSite=Lax, Max-Age TokenTTL) and in the header. Tokens are set when
// the handler starts its response, so writes made after that reach only
// later requests of the same handler.
func (r *Router) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tok := ""
		if r.opts.Header != "-" {
			tok = req.Header.Get(r.opts.Header)
		}
		if tok == "" && r.opts.Cookie != "-" {
			if c, err := req.Cookie(r.opts.Cookie); err == nil {
				tok = c.Value
			}
		}
		s, rejected := r.sessionFromToken(tok)
		tw := &tokenWriter{ResponseWriter: w, r: r, s: s, secure: req.TLS != nil, rejected: rejected}
		next.ServeHTTP(tw, req.WithContext(NewContext(req.Context(), s)))
		tw.setToken()
	})
}

// tokenWriter sets the token just before the response's header goes out.
type tokenWriter struct {
	http.ResponseWriter
	r        *Router
	s        *Session
	secure   bool
	rejected bool // the request's token was rejected: clear it unless replaced
	sent     bool
}

func (w *tokenWriter) setToken() {
	if w.sent {
		return
	}
	w.sent = true
	tok := ""
	if w.s.changed.Load() {
		tok = w.r.Token(w.s)
	}
	if tok == "" {
		if w.rejected && w.r.opts.Cookie != "-" {
			http.SetCookie(w.ResponseWriter, &http.Cookie{Name: w.r.opts.Cookie, Path: "/", MaxAge: -1})
		}
		return
	}
	if w.r.opts.Header != "-" {
		w.Header().Set(w.r.opts.Header, tok)
	}
	if w.r.opts.Cookie != "-" {
		http.SetCookie(w.ResponseWriter, &http.Cookie{
			Name: w.r.opts.Cookie, Value: tok, Path: "/", HttpOnly: true, Secure: w.secure,
			SameSite: http.SameSiteLaxMode, MaxAge: int(w.r.opts.TokenTTL / time.Second),
		})
	}
}

func (w *tokenWriter) WriteHeader(code int) {
	w.setToken()
	w.ResponseWriter.WriteHeader(code)
}

func (w *tokenWriter) Write(b []byte) (int, error) {
	w.setToken()
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data, as http.Flusher does.
func (w *tokenWriter) Flush() {
	w.setToken()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack lets the handler take over the connection, as http.Hijacker does.
func (w *tokenWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *tokenWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
