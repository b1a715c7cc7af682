package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Session is one request's view of a session. Reads see the values loaded with the
// request plus this request's own changes; changes are committed as one per-key update.
// It is safe for use by the handler's goroutines while the request runs.
type Session struct {
	m  *Manager
	mu sync.Mutex

	token, key string // "" until the session has an identifier
	stored     bool   // the store holds key
	rec        Record
	set        map[string][]byte
	del        map[string]struct{}
	setUser    bool
	touch      time.Time // new idle deadline to write, or zero
	size       int       // encoded size of this request's view
	base       int       // encoded size of the view as last loaded or committed
	err        error     // load failure: the session fails closed
	stale      bool      // the request carried a renewed identifier (ErrRenewed)

	cookieDirty bool // the cookie must be (re)sent: new identifier or deletion
	headersSent bool
}

func (s *Session) lock() error {
	if s == nil {
		return ErrNoSession
	}
	s.mu.Lock()
	if err := s.loadErr(); err != nil {
		s.mu.Unlock()
		return err
	}
	return nil
}

// lockOwn is lock for RenewID and Destroy, which a request that carried a renewed
// identifier may call: they start from a fresh session of this request's own.
func (s *Session) lockOwn() error {
	if s == nil {
		return ErrNoSession
	}
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return s.err
	}
	return nil
}

// loadErr is why the request has no usable session; s.mu is held.
func (s *Session) loadErr() error {
	if s.err == nil && s.stale {
		return ErrRenewed
	}
	return s.err
}

// Err returns the store failure that prevented loading the session, ErrRenewed if the
// request carried an identifier another request has renewed, or nil.
func (s *Session) Err() error {
	if s == nil {
		return ErrNoSession
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadErr()
}

// value returns the current encoded value of key; s.mu is held.
func (s *Session) value(key string) ([]byte, bool) {
	if v, ok := s.set[key]; ok {
		return v, true
	}
	if _, ok := s.del[key]; ok {
		return nil, false
	}
	v, ok := s.rec.Values[key]
	return v, ok
}

// Get decodes the value under key. It returns an error wrapping ErrNoValue if the session
// has no such key, ErrStore if the session could not be loaded, or the codec's error.
func Get[T any](s *Session, key string) (T, error) {
	var v T
	if err := s.lock(); err != nil {
		return v, err
	}
	b, ok := s.value(key)
	s.mu.Unlock()
	if !ok {
		return v, fmt.Errorf("%w: %q", ErrNoValue, key)
	}
	if err := s.m.opts.Codec.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("session: decode %q: %w", key, err)
	}
	return v, nil
}

// Pop returns the value under key and removes it (a flash message). The removal is a
// take at the store, done at once: of concurrent requests popping one value, exactly one
// gets it and the others get ErrNoValue, and a value put again by another request after
// the take is kept. A value put by this request itself is popped without a store call.
// Pop returns ErrNoValue for a key this request's view of the session does not hold.
func Pop[T any](ctx context.Context, s *Session, key string) (T, error) {
	var v T
	b, err := s.take(ctx, key)
	if err != nil {
		return v, err
	}
	if err := s.m.opts.Codec.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("session: decode %q: %w", key, err)
	}
	return v, nil
}

// take removes key from the session and returns its encoded value.
func (s *Session) take(ctx context.Context, key string) ([]byte, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if v, ok := s.set[key]; ok {
		s.remove(key) // put by this request: not in the store (yet)
		return v, nil
	}
	old, ok := s.value(key)
	if !ok || !s.stored {
		return nil, fmt.Errorf("%w: %q", ErrNoValue, key)
	}
	m := s.m
	start := m.opts.Now()
	sctx, cancel := m.storeCtx(ctx)
	v, err := m.store.Take(sctx, s.key, key)
	cancel()
	m.met.observe(ctx, opTake, start, m.opts.Now(), err)
	if err != nil && !errors.Is(err, ErrNoValue) && !errors.Is(err, ErrNotFound) {
		return nil, storeErr("take", err)
	}
	// Gone from the store (taken now, by another request, or with the session): hide it
	// from this request's view without a Delete, which could remove a later Put.
	vals := make(map[string][]byte, len(s.rec.Values))
	for k, x := range s.rec.Values {
		if k != key {
			vals[k] = x
		}
	}
	s.rec.Values = vals // copied: the store may share the loaded map
	s.size -= len(key) + len(old)
	s.base -= len(key) + len(old)
	if err != nil {
		return nil, fmt.Errorf("%w: %q", ErrNoValue, key)
	}
	return v, nil
}

// Put encodes v and stores it under key. It fails with ErrTooLarge if the session would
// exceed Options.MaxSize, and with ErrStore if the session could not be loaded.
func Put(s *Session, key string, v any) error {
	if s == nil {
		return ErrNoSession
	}
	if err := checkName("key", key); err != nil {
		return err
	}
	b, err := s.m.opts.Codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("session: encode %q: %w", key, err)
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	size := s.size + len(key) + len(b)
	if old, ok := s.value(key); ok {
		size -= len(key) + len(old)
	}
	if size > s.m.opts.MaxSize && size > s.size {
		return fmt.Errorf("%w: %q makes the session %d bytes, over MaxSize %d", ErrTooLarge, key, size, s.m.opts.MaxSize)
	}
	s.ensureID()
	if s.set == nil {
		s.set = make(map[string][]byte)
	}
	s.set[key] = b
	delete(s.del, key)
	s.size = size
	return nil
}

// Remove deletes key from the session.
func (s *Session) Remove(key string) {
	if s.lock() != nil {
		return
	}
	defer s.mu.Unlock()
	s.remove(key)
}

// remove deletes key from this request's view and, if stored, at commit; s.mu is held.
func (s *Session) remove(key string) {
	old, ok := s.value(key)
	if !ok {
		return
	}
	s.size -= len(key) + len(old)
	delete(s.set, key)
	if _, stored := s.rec.Values[key]; stored {
		if s.del == nil {
			s.del = make(map[string]struct{})
		}
		s.del[key] = struct{}{}
	}
}

// Keys returns the keys the session holds as this request sees it (the values loaded
// with the request plus its own changes), sorted. It returns an error wrapping ErrStore
// if the session could not be loaded, or ErrRenewed (see there).
func (s *Session) Keys() ([]string, error) {
	if err := s.lock(); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	keys := make([]string, 0, len(s.rec.Values)+len(s.set))
	for k := range s.rec.Values {
		if _, gone := s.del[k]; !gone {
			keys = append(keys, k)
		}
	}
	for k := range s.set {
		if _, loaded := s.rec.Values[k]; !loaded {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// User returns the identity bound to the session, or "".
func (s *Session) User() string {
	if s.lock() != nil {
		return ""
	}
	defer s.mu.Unlock()
	return s.rec.User
}

// SetUser binds the session to user, so Manager.DestroyAll(user) ends it. Call it on
// login, after RenewID. user follows the rules of keys (see ErrInvalidKey).
func (s *Session) SetUser(user string) error {
	if err := checkName("user", user); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.ensureID()
	s.rec.User, s.setUser = user, true
	return nil
}

// ensureID gives a new session its identifier; s.mu is held.
func (s *Session) ensureID() {
	if s.token == "" {
		s.token, s.key = newToken()
		s.cookieDirty = true
	}
}

// RenewID gives the session a new identifier, keeping its values, and leaves a tombstone
// under the old one. Call it on login and on any privilege change (against fixation).
func (s *Session) RenewID(ctx context.Context) error {
	if err := s.lockOwn(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.headersSent {
		return ErrHeadersSent
	}
	token, key := newToken()
	if s.stored {
		m := s.m
		now := m.opts.Now()
		exp := m.expiry(s.rec.Created, now)
		sctx, cancel := m.storeCtx(ctx)
		err := m.store.Renew(sctx, s.key, key, exp, m.opts.Grace)
		cancel()
		m.met.observe(ctx, opRenew, now, m.opts.Now(), err)
		switch {
		case errors.Is(err, ErrNotFound):
			// Destroyed or expired meanwhile: continue as a new, anonymous session
			// with this request's changes only (a logout elsewhere must stand).
			s.stored, s.rec.Values, s.rec.Created = false, nil, time.Time{}
			if !s.setUser {
				s.rec.User = ""
			}
			s.del, s.touch, s.size, s.base = nil, time.Time{}, sizeOf(s.set), 0
		case err != nil:
			return storeErr("renew", err)
		default:
			s.rec.Expires, s.touch = exp, time.Time{}
			m.met.renewed.Add(ctx, 1)
		}
	}
	s.token, s.key, s.cookieDirty, s.stale = token, key, true, false
	return nil
}

// Destroy ends the session (logout). The store keeps a tombstone so that no request still
// in flight can bring it back. Values put afterwards start a new session.
func (s *Session) Destroy(ctx context.Context) error {
	if err := s.lockOwn(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if s.headersSent {
		return ErrHeadersSent
	}
	if s.stored {
		m := s.m
		start := m.opts.Now()
		sctx, cancel := m.storeCtx(ctx)
		err := m.store.Destroy(sctx, s.key, m.opts.Grace)
		cancel()
		m.met.observe(ctx, opDestroy, start, m.opts.Now(), err)
		if err != nil {
			return storeErr("destroy", err)
		}
		m.met.destroyed.Add(ctx, 1)
	}
	// A logout of its own: the response deletes the cookie, even one this request did
	// not carry (it carried a renewed one: the browser holds the login's by now).
	s.cookieDirty = s.cookieDirty || s.stale
	s.stale = false
	s.reset()
	return nil
}

// checkName validates a key or user name so that every store can keep it.
func checkName(what, name string) error {
	if name == "" || len(name) > 256 || !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("%w: %s %.40q: want 1–256 bytes of UTF-8 without NUL", ErrInvalidKey, what, name)
	}
	return nil
}
