package session

import (
	"errors"
	"strings"
)

var (
	// ErrInvalidOptions is wrapped by every configuration error.
	ErrInvalidOptions = errors.New("session: invalid options")
	// ErrNotFound reports a session that does not exist in the store (never created,
	// expired, destroyed or renewed away).
	ErrNotFound = errors.New("session: not found")
	// ErrExists reports an attempt to create a session whose key is already taken
	// (a live session or a tombstone).
	ErrExists = errors.New("session: already exists")
	// ErrNoValue reports a key the session does not hold.
	ErrNoValue = errors.New("session: no such value")
	// ErrInvalidKey reports a key or user name that stores cannot keep: empty, over 256
	// bytes, not UTF-8, or holding a NUL byte.
	ErrInvalidKey = errors.New("session: invalid key")
	// ErrTooLarge reports a session that would exceed Options.MaxSize.
	ErrTooLarge = errors.New("session: too large")
	// ErrStore wraps failures of the store (outage, timeout).
	ErrStore = errors.New("session: store failed")
	// ErrHeadersSent reports an operation that must set the cookie after the response
	// headers were already written.
	ErrHeadersSent = errors.New("session: response headers already sent")
	// ErrRenewed reports a request that carried a session identifier another request had
	// already renewed (a login, see Session.RenewID): the browser sent it before the
	// login's response arrived, and holds the new cookie by now. Such a request sees no
	// session: acting on the renewed session would let whoever holds the pre-login
	// identifier share the logged-in one (session fixation), and starting a new one would
	// replace the login's cookie. Get, Put, Pop, SetUser, Commit and Session.Err return it;
	// Remove does nothing; RenewID and Destroy work (a login or logout of its own), and
	// the response leaves the cookie alone otherwise. Answer 409 Conflict or have the
	// client retry: the retry carries the new cookie. Stores return it from Load for an
	// identifier renewed less than Options.Grace ago, or as long as they keep its
	// tombstone (redisstore: at least a minute).
	ErrRenewed = errors.New("session: renewed by another request")
	// ErrNoSession reports a request that did not pass through a Manager.
	ErrNoSession = errors.New("session: no session in context")
)

// storeError is a store failure of one operation: it matches ErrStore and the store's
// error, and says the package prefix once even when the store's error is one of this
// package's sentinels ("session: store failed: create: already exists").
type storeError struct {
	op  string
	err error
}

func storeErr(op string, err error) error { return &storeError{op: op, err: err} }

func (e *storeError) Error() string {
	return ErrStore.Error() + ": " + e.op + ": " + strings.TrimPrefix(e.err.Error(), "session: ")
}

func (e *storeError) Unwrap() []error { return []error{ErrStore, e.err} }
