package session

import "errors"

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
	// ErrNoSession reports a request that did not pass through a Manager.
	ErrNoSession = errors.New("session: no session in context")
)
