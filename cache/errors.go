package cache

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidOptions is wrapped by every configuration error.
	ErrInvalidOptions = errors.New("cache: invalid options")
	// ErrTooLarge is returned when an entry's cost exceeds the store's MaxCost;
	// the entry is not stored (and any older value for the key is removed).
	ErrTooLarge = errors.New("cache: entry cost exceeds MaxCost")
	// ErrPanic is wrapped by the error every waiter receives when a loader panics.
	ErrPanic = errors.New("cache: loader panicked")
	// ErrGoexit is the error every waiter receives when a loader ends its
	// goroutine with runtime.Goexit (as t.FailNow does in a test) instead of
	// returning. The load counts as failed; the next Get loads again.
	ErrGoexit = errors.New("cache: loader called runtime.Goexit")
	// ErrNilLoader is returned by Get, Fetch and GetMany when the loader is nil.
	ErrNilLoader = errors.New("cache: nil loader")
	// ErrClosed is returned for misses once the cache is closed.
	ErrClosed = errors.New("cache: closed")
)

// PanicError carries the value a loader panicked with. It wraps [ErrPanic].
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("cache: loader panicked: %v", e.Value) }

// Unwrap makes errors.Is(err, ErrPanic) true.
func (e *PanicError) Unwrap() error { return ErrPanic }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// ErrNotFound is the default Options.NotFound sentinel.
var ErrNotFound = errors.New("cache: not found")
