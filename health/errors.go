package health

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidOptions is wrapped by every error about bad configuration or
	// arguments; the message names the field and the value.
	ErrInvalidOptions = errors.New("health: invalid options")
	// ErrDuplicate is returned when a name is registered twice.
	ErrDuplicate = errors.New("health: duplicate name")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("health: closed")
	// ErrPanic is wrapped by the error a panicking check or probe is reported with.
	ErrPanic = errors.New("health: panic")
	// ErrBadStatus is wrapped by the error of an HTTP probe whose response
	// status is outside the expected range.
	ErrBadStatus = errors.New("health: unexpected HTTP status")
	// ErrOpen is returned by a [Breaker] that rejects a call.
	ErrOpen = errors.New("health: circuit open")
)

// invalid returns an error wrapping ErrInvalidOptions, sentinel first so the
// package prefix appears once: "health: invalid options: check "db": Timeout -1s: must be ≥ 0".
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// PanicError carries the value a check or probe panicked with. It wraps ErrPanic.
type PanicError struct {
	Value any
}

func (e *PanicError) Error() string { return "health: panic: " + sprint(e.Value) }

// Unwrap makes errors.Is(err, ErrPanic) true.
func (e *PanicError) Unwrap() error { return ErrPanic }
