package session

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Commit writes the session's pending changes now. The middleware commits on its own
// before the response headers go out; call Commit to see the error yourself.
func (s *Session) Commit(ctx context.Context) error {
	if err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sctx, cancel := s.m.storeCtx(ctx)
	defer cancel()
	return s.commit(sctx)
}

// commit writes pending changes in one store call under ctx, which the caller bounds
// by StoreTimeout (the middleware's commitCtx, or Commit); s.mu is held.
func (s *Session) commit(ctx context.Context) error {
	m := s.m
	if s.token == "" {
		return nil
	}
	if !s.stored {
		if len(s.set) == 0 && !s.setUser {
			return nil // nothing to keep: no store write for an empty session
		}
		return s.create(ctx)
	}
	u := Update{Set: s.set, SetUser: s.setUser, User: s.rec.User, Expires: s.touch}
	if s.size > s.base {
		// This request grows the session: the store checks the limit against the
		// session as it is now, with what concurrent requests added.
		u.MaxSize = m.opts.MaxSize
	}
	if u.SetUser && u.Expires.IsZero() {
		// Tell the store how long the user index must cover this session.
		u.Expires = m.expiry(s.rec.Created, m.opts.Now())
		s.touch = u.Expires
	}
	for k := range s.del {
		u.Delete = append(u.Delete, k)
	}
	if u.Empty() {
		return nil
	}
	start := m.opts.Now()
	err := m.store.Apply(ctx, s.key, u)
	m.met.observe(ctx, opApply, start, m.opts.Now(), err)
	if errors.Is(err, ErrNotFound) {
		// Destroyed (logout) or expired while this request ran: its changes must not
		// bring the session back. Drop them. The cookie is deleted only if this request
		// renewed the identifier (its new cookie would name nothing): the logout that
		// destroyed the session deleted the browser's cookie itself, and the browser may
		// hold a newer login's by now, which a deletion from here would log out.
		own := s.cookieDirty
		s.reset()
		s.cookieDirty = own
		return err
	}
	if errors.Is(err, ErrTooLarge) {
		// Concurrent requests grew the session: this request's value changes are
		// dropped (its user binding and idle refresh stay pending).
		s.set, s.del, s.size = nil, nil, s.base
		return fmt.Errorf("%w: the session would exceed MaxSize %d (values changed by this request dropped)",
			ErrTooLarge, m.opts.MaxSize)
	}
	if err != nil {
		return storeErr("apply", err)
	}
	s.merge()
	return nil
}

func (s *Session) create(ctx context.Context) error {
	m := s.m
	now := m.opts.Now()
	rec := Record{Values: s.set, User: s.rec.User, Created: now, Expires: m.expiry(now, now)}
	err := m.store.Create(ctx, s.key, rec)
	m.met.observe(ctx, opCreate, now, m.opts.Now(), err)
	if err != nil {
		return storeErr("create", err)
	}
	m.met.created.Add(ctx, 1)
	s.stored, s.rec.Created, s.rec.Expires = true, rec.Created, rec.Expires
	s.rec.Values = nil
	s.merge()
	return nil
}

// merge folds committed changes into the loaded record.
func (s *Session) merge() {
	if len(s.set) > 0 || len(s.del) > 0 {
		vals := make(map[string][]byte, len(s.rec.Values)+len(s.set))
		for k, v := range s.rec.Values {
			vals[k] = v
		}
		for k := range s.del {
			delete(vals, k)
		}
		for k, v := range s.set {
			vals[k] = v
		}
		s.rec.Values = vals
	}
	if !s.touch.IsZero() {
		s.rec.Expires = s.touch
	}
	s.set, s.del, s.setUser, s.touch = nil, nil, false, time.Time{}
	s.base = s.size
}

// reset forgets the session (after Destroy, or when the store no longer has it); the
// cookie is deleted unless a new session is started. s.mu is held.
func (s *Session) reset() {
	s.cookieDirty = s.cookieDirty || s.token != ""
	s.token, s.key, s.stored, s.rec = "", "", false, Record{}
	s.set, s.del, s.setUser, s.touch, s.size, s.base = nil, nil, false, time.Time{}, 0, 0
}
