package cache

import (
	"errors"
	"fmt"
	"strings"
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

// invalid is a configuration error: the sentinel first, then the field and
// why, "cache: invalid options: TTL -1s: must be ≥ 0".
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// ErrNotFound is the default Options.NotFound sentinel.
var ErrNotFound = errors.New("cache: not found")

// sentinels are this package's errors that others wrap.
var sentinels = []error{ErrInvalidOptions, ErrTooLarge, ErrPanic, ErrGoexit, ErrNilLoader, ErrClosed, ErrNotFound}

// within wraps err with where it happened, keeping the package prefix once:
// an error that is or wraps one of this package's sentinels reads
// "cache: <sentinel>: <where>: <detail>" (sentinel first), any other error
// of this package "cache: <where>: <rest>", and any other error
// "cache: <where>: <err>". where may be empty.
func within(where string, err error) error {
	msg := err.Error()
	for _, s := range sentinels {
		if head := s.Error(); msg == head || strings.HasPrefix(msg, head+": ") {
			return &located{msg: join(head, where, strings.TrimPrefix(msg[len(head):], ": ")), err: err}
		}
	}
	if rest, ok := strings.CutPrefix(msg, "cache: "); ok {
		return &located{msg: join("cache", where, rest), err: err}
	}
	return &located{msg: join("cache", where, msg), err: err}
}

// join joins the non-empty parts with ": ".
func join(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// located is an error whose message within rearranged.
type located struct {
	msg string
	err error
}

func (e *located) Error() string { return e.msg }
func (e *located) Unwrap() error { return e.err }
