package observe

import "errors"

// Sentinel errors of the advisor, SLOs and status page. (If observe's
// errors.go defines these, this file goes at merge.)
var (
	// ErrInvalidOptions is wrapped by every configuration error, which names
	// the field and its value.
	ErrInvalidOptions = errors.New("observe: invalid options")
	// ErrPanic is wrapped by the error a panicking rule or action becomes.
	ErrPanic = errors.New("observe: panic")
)
