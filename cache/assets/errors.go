package assets

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidOptions is wrapped by every configuration error.
	ErrInvalidOptions = errors.New("assets: invalid options")
	// ErrNotFound is returned by URL and Integrity (and so by the template
	// functions) for a logical name the manifest does not hold.
	ErrNotFound = errors.New("assets: unknown asset")
	// ErrInvalidManifest is wrapped by ReadManifest's errors and by New when
	// a previous build's manifest does not describe its FS.
	ErrInvalidManifest = errors.New("assets: invalid manifest")
	// ErrConflict is returned by New when two files would be served under
	// one URL: a file whose name is another file's hashed name, or a
	// previous build whose hashed name maps to different bytes.
	ErrConflict = errors.New("assets: conflicting names")
	// ErrStaleVariant is returned by New when a precompressed .gz sibling
	// does not decompress to the bytes of the file beside it: served, it
	// would give gzip clients other content than everyone else.
	ErrStaleVariant = errors.New("assets: precompressed variant does not match its file")
)

// wrap puts a sentinel first and the detail after it:
// "assets: invalid options: Prefix \"x\": must start and end with /".
func wrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
