package lb

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"
)

// StickyOptions pins a client to the backend that served it with a cookie.
// The cookie carries an HMAC of the backend's name, so it reveals nothing
// about the backend and cannot be forged to pick one; when the backend is
// gone or unhealthy the request is balanced normally and the cookie renewed.
type StickyOptions struct {
	// Cookie is the cookie name. Empty means "lb_sticky"; a name that is
	// not a valid cookie name is an error.
	Cookie string
	// Key signs the cookie; at least 16 bytes, fewer is an error. Empty
	// means a random key per process: stickiness then does not survive
	// restarts or span instances.
	Key []byte
	// MaxAge of the cookie; zero means a session cookie, negative is an
	// error.
	MaxAge time.Duration
	// Insecure omits the Secure attribute, for plain-HTTP deployments.
	Insecure bool
}

const stickyLen = 16 // bytes of HMAC kept

type sticky struct {
	opts   StickyOptions
	tokens atomic.Pointer[stickyTokens]
}

// stickyTokens caches the token of each member of one snapshot.
type stickyTokens struct {
	snap  any
	token []string
	pos   map[string]int
}

func newSticky(o StickyOptions) (*sticky, error) {
	if o.Cookie == "" {
		o.Cookie = "lb_sticky"
	}
	if !validCookieName(o.Cookie) {
		return nil, fmt.Errorf("%w: Sticky.Cookie %q: not a cookie name", ErrInvalidOptions, o.Cookie)
	}
	switch {
	case len(o.Key) == 0:
		o.Key = make([]byte, 32)
		_, _ = rand.Read(o.Key)
	case len(o.Key) < 16:
		return nil, fmt.Errorf("%w: Sticky.Key: %d bytes, need ≥ 16", ErrInvalidOptions, len(o.Key))
	}
	if o.MaxAge < 0 {
		return nil, fmt.Errorf("%w: Sticky.MaxAge %v: must be ≥ 0", ErrInvalidOptions, o.MaxAge)
	}
	return &sticky{opts: o}, nil
}

func validCookieName(s string) bool {
	c := http.Cookie{Name: s, Value: "x"}
	return c.Valid() == nil
}

func (s *sticky) token(name string) string {
	m := hmac.New(sha256.New, s.opts.Key)
	m.Write([]byte(name))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:stickyLen])
}

func (s *sticky) table(snap *snapshot[urlT]) *stickyTokens {
	if t := s.tokens.Load(); t != nil && t.snap == snap {
		return t
	}
	t := &stickyTokens{snap: snap, token: make([]string, len(snap.all)), pos: make(map[string]int, len(snap.all))}
	for i, e := range snap.all {
		t.token[i] = s.token(e.name)
		t.pos[t.token[i]] = i
	}
	s.tokens.Store(t)
	return t
}

// lookup returns the position of the eligible backend the request's cookie
// names, or -1.
func (s *sticky) lookup(r *http.Request, snap *snapshot[urlT]) int {
	c, err := r.Cookie(s.opts.Cookie)
	if err != nil || !wellFormedToken(c.Value) {
		return -1
	}
	i, ok := s.table(snap).pos[c.Value]
	if !ok || !snap.ok[i] {
		return -1
	}
	return i
}

// wellFormedToken checks the shape before any map lookup.
func wellFormedToken(v string) bool {
	if len(v) != base64.RawURLEncoding.EncodedLen(stickyLen) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

func (s *sticky) cookie(snap *snapshot[urlT], pos int) *http.Cookie {
	c := &http.Cookie{
		Name: s.opts.Cookie, Value: s.table(snap).token[pos], Path: "/",
		HttpOnly: true, Secure: !s.opts.Insecure, SameSite: http.SameSiteLaxMode,
	}
	if s.opts.MaxAge > 0 {
		c.MaxAge = int(s.opts.MaxAge / time.Second)
	}
	return c
}
