package shard

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidOptions is wrapped by every configuration error: a strategy,
	// map, range list or directory that cannot be built as given. The message
	// names the field and the value.
	ErrInvalidOptions = errors.New("shard: invalid options")
	// ErrConflict is returned by [Router.Swap] when the current map is not
	// the one the caller expected: someone else swapped first. Reload the
	// map with [Router.Map], recompute and try again.
	ErrConflict = errors.New("shard: map changed concurrently")
	// ErrVersion is returned by [Router.Swap] when the next map's version
	// is not greater than the current one's.
	ErrVersion = errors.New("shard: map version must increase")
)

// invalid is a configuration error: the sentinel first, then the field and
// why, "shard: invalid options: Jump n 0: must be ≥ 1".
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}
