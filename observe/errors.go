package observe

import "errors"

// ErrInvalidOptions is wrapped by every error about bad configuration:
// an options field or a malformed OTEL_* environment variable. The message
// names the field or variable and its value.
var ErrInvalidOptions = errors.New("observe: invalid options")
