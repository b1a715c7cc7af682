package lb

import "errors"

var (
	// ErrNoBackend is returned when the pool is empty or no backend can take the request.
	ErrNoBackend = errors.New("lb: no backend available")
	// ErrInvalidOptions is wrapped by every configuration error.
	ErrInvalidOptions = errors.New("lb: invalid options")
	// ErrClosed is returned by a closed pool.
	ErrClosed = errors.New("lb: pool closed")
)
