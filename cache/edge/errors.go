package edge

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidOptions is wrapped by every configuration error.
	ErrInvalidOptions = errors.New("edge: invalid options")
	// ErrPanic is wrapped by the error logged when the origin handler panics;
	// every client waiting on that fetch receives 502 Bad Gateway.
	ErrPanic = errors.New("edge: origin handler panicked")
	// errOriginAborted is an origin's panic(http.ErrAbortHandler): the
	// response cut on purpose (a proxy's backend died mid-body, or the
	// edge stopped the fetch). Clients get the same cut body.
	errOriginAborted = errors.New("edge: origin aborted its response")
)

// invalid is a configuration error: the sentinel first, then the field and why.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}
