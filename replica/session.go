package replica

import (
	"context"
	"sync/atomic"
	"time"
)

// Session is the read-your-writes state of one scope: a request, or a user
// across requests when carried by a token. Writes through the router in a
// context carrying the session record their position (or time) in it;
// reads in that context then avoid replicas that have not replayed them.
// A Session is safe for concurrent use; its zero value is an empty session.
type Session struct {
	pos      atomic.Uint64 // highest write position seen
	pinUntil atomic.Int64  // Unix nanoseconds; reads go to the primary before it
	changed  atomic.Bool   // written to since it was made or read from a token
}

// Position is the highest write position the session has recorded.
func (s *Session) Position() Position { return Position(s.pos.Load()) }

// observe raises the session's position to p.
func (s *Session) observe(p Position) {
	for {
		old := s.pos.Load()
		if uint64(p) <= old || s.pos.CompareAndSwap(old, uint64(p)) {
			break
		}
	}
	s.changed.Store(true)
}

// pin sends the session's reads to the primary until t.
func (s *Session) pin(t time.Time) {
	n := t.UnixNano()
	for {
		old := s.pinUntil.Load()
		if n <= old || s.pinUntil.CompareAndSwap(old, n) {
			break
		}
	}
	s.changed.Store(true)
}

// pinned reports whether reads must go to the primary; it reads the clock
// only when the session has a pin.
func (s *Session) pinned(now func() time.Time) bool {
	u := s.pinUntil.Load()
	return u != 0 && now().UnixNano() < u
}

type ctxKey struct{}

// binding is what a context carries: a session and the primary marker.
type binding struct {
	s       *Session
	primary bool
}

// NewContext returns a context carrying s: writes through the router in it
// record their position in s, and reads in it see them. Middleware does this
// for HTTP handlers.
func NewContext(ctx context.Context, s *Session) context.Context {
	b, _ := ctx.Value(ctxKey{}).(*binding)
	return context.WithValue(ctx, ctxKey{}, &binding{s: s, primary: b != nil && b.primary})
}

// FromContext returns the session ctx carries, or nil.
func FromContext(ctx context.Context) *Session {
	if b, _ := ctx.Value(ctxKey{}).(*binding); b != nil {
		return b.s
	}
	return nil
}

// WithPrimary returns a context in which every query goes to the primary.
// The router never parses SQL: a query that writes (INSERT … RETURNING,
// SELECT … FOR UPDATE, a function with side effects) sent through
// QueryContext or QueryRowContext must carry this marker, or it goes to a
// replica and fails there. Follow such a write with [Router.Wrote] so the
// session records it.
func WithPrimary(ctx context.Context) context.Context {
	b, _ := ctx.Value(ctxKey{}).(*binding)
	nb := &binding{primary: true}
	if b != nil {
		nb.s = b.s
	}
	return context.WithValue(ctx, ctxKey{}, nb)
}
