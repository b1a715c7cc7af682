package session

import (
	"context"
	"time"
)

// Record is what a store keeps for one session.
type Record struct {
	// Values holds each encoded value under its own key.
	Values map[string][]byte
	// User is the identity bound with [Session.SetUser]; "" for anonymous sessions.
	User string
	// Created is when the session was created; the absolute lifetime counts from it.
	Created time.Time
	// Expires is when the store forgets the session (idle or absolute deadline, whichever
	// is first).
	Expires time.Time
}

// Update is one atomic change to a stored session: only the keys a request changed.
type Update struct {
	Set    map[string][]byte
	Delete []string
	// SetUser binds the session to User (and adds it to the user's index).
	SetUser bool
	User    string
	// Expires, when not zero, moves the session's expiry (the idle refresh).
	Expires time.Time
	// MaxSize, when > 0, bounds the session: if its keys and values would exceed MaxSize
	// bytes after the update, Apply fails with ErrTooLarge and changes nothing. The
	// Manager sets it on updates that grow the session, so that concurrent requests
	// cannot together grow it past Options.MaxSize.
	MaxSize int
}

// Empty reports whether u changes nothing.
func (u *Update) Empty() bool {
	return len(u.Set) == 0 && len(u.Delete) == 0 && !u.SetUser && u.Expires.IsZero()
}

// Store keeps sessions by key (the hex SHA-256 of the token; stores never see tokens).
// Implementations must be safe for concurrent use and pass sessiontest.Run.
type Store interface {
	// Load returns the live session under key; an error wrapping ErrRenewed if key is a
	// tombstone left by Renew (so that the Manager can tell a request sent with the
	// pre-login cookie from one with an unknown cookie); or an error wrapping ErrNotFound
	// if it is missing, expired or another tombstone.
	Load(ctx context.Context, key string) (Record, error)
	// Create stores a new session; it fails with ErrExists if key holds a session or a
	// tombstone.
	Create(ctx context.Context, key string, rec Record) error
	// Apply atomically applies u to the live session under key. If key is a tombstone left
	// by Renew, u is applied to the successor. It fails with ErrNotFound (and changes
	// nothing) if no live session is reached: an update never recreates a session.
	Apply(ctx context.Context, key string, u Update) error
	// Take atomically removes the value name from the live session under key (following a
	// renewal, as Apply does) and returns it. Of several concurrent Takes of one value,
	// exactly one gets it; the others fail with ErrNoValue, as does a Take of a value the
	// session does not hold. It fails with ErrNotFound if no live session is reached.
	Take(ctx context.Context, key, name string) ([]byte, error)
	// Renew atomically moves the session under oldKey to newKey (values, user, creation
	// time; expiry set to expires) and leaves at oldKey a tombstone forwarding updates to
	// newKey for grace. It fails with ErrNotFound if oldKey holds no live session and with
	// ErrExists if newKey is taken.
	Renew(ctx context.Context, oldKey, newKey string, expires time.Time, grace time.Duration) error
	// Destroy deletes the session under key and leaves a tombstone for grace that drops
	// every later update. Destroying a missing session is not an error.
	Destroy(ctx context.Context, key string, grace time.Duration) error
	// DestroyUser destroys (as Destroy) every live session bound to user and returns how
	// many it destroyed. Anonymous sessions are bound to no user: DestroyUser("") destroys
	// nothing.
	DestroyUser(ctx context.Context, user string, grace time.Duration) (int, error)
}
