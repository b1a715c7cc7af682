package app

import (
	"context"
	"errors"
	"sync/atomic"
)

// CountingStore counts the calls that reach the store it wraps: the
// "database queries per request" the ladder walk prints (a cache in front
// of it shows as fewer calls).
type CountingStore struct {
	s                                  Store
	writes, reads, logins, pings, errs atomic.Int64
}

// Count wraps s.
func Count(s Store) *CountingStore { return &CountingStore{s: s} }

// StoreCounts are a CountingStore's counts. Errors counts failures of the
// store (not ErrNotFound, ErrTaken or ErrInvalid, which are answers).
type StoreCounts struct {
	Writes, Reads, UserLookups, Pings, Errors int64
}

// Queries is every call but pings.
func (c StoreCounts) Queries() int64 { return c.Writes + c.Reads + c.UserLookups }

// Counts returns the counts so far.
func (c *CountingStore) Counts() StoreCounts {
	return StoreCounts{Writes: c.writes.Load(), Reads: c.reads.Load(), UserLookups: c.logins.Load(), Pings: c.pings.Load(), Errors: c.errs.Load()}
}

func (c *CountingStore) note(n *atomic.Int64, err error) error {
	n.Add(1)
	if err != nil && !isAnswer(err) {
		c.errs.Add(1) // a failure of the store, not one of its answers
	}
	return err
}

func (c *CountingStore) CreateUser(ctx context.Context, u User, hash string) error {
	return c.note(&c.writes, c.s.CreateUser(ctx, u, hash))
}

func (c *CountingStore) UserByName(ctx context.Context, name string) (User, string, error) {
	u, h, err := c.s.UserByName(ctx, name)
	return u, h, c.note(&c.logins, err)
}

func (c *CountingStore) CreatePost(ctx context.Context, p Post) error {
	return c.note(&c.writes, c.s.CreatePost(ctx, p))
}

func (c *CountingStore) Feed(ctx context.Context, limit int) ([]Post, error) {
	p, err := c.s.Feed(ctx, limit)
	return p, c.note(&c.reads, err)
}

func (c *CountingStore) UserPosts(ctx context.Context, author string, limit int) ([]Post, error) {
	p, err := c.s.UserPosts(ctx, author, limit)
	return p, c.note(&c.reads, err)
}

func (c *CountingStore) Ping(ctx context.Context) error { return c.note(&c.pings, c.s.Ping(ctx)) }

var _ KeyedStore = (*CountingStore)(nil)

// CreateUserKeyed implements KeyedStore (ErrKeyUnsupported, uncounted, if
// the wrapped store is not one).
func (c *CountingStore) CreateUserKeyed(ctx context.Context, u User, hash, key string) (bool, error) {
	ks, ok := c.s.(KeyedStore)
	if !ok {
		return false, ErrKeyUnsupported
	}
	replayed, err := ks.CreateUserKeyed(ctx, u, hash, key)
	return replayed, c.note(&c.writes, err)
}

// CreatePostKeyed implements KeyedStore (ErrKeyUnsupported, uncounted, if
// the wrapped store is not one).
func (c *CountingStore) CreatePostKeyed(ctx context.Context, p Post, key string) (Post, bool, error) {
	ks, ok := c.s.(KeyedStore)
	if !ok {
		return Post{}, false, ErrKeyUnsupported
	}
	stored, replayed, err := ks.CreatePostKeyed(ctx, p, key)
	return stored, replayed, c.note(&c.writes, err)
}

// isAnswer reports whether err is one of the application's answers (no
// such user, name taken, bad input, a key reused or not supported), not a
// failure of the store.
func isAnswer(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrTaken) || errors.Is(err, ErrInvalid) ||
		errors.Is(err, ErrKeyReused) || errors.Is(err, ErrKeyUnsupported)
}
