package pgqueue

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// Listen says how Wait learns of new jobs.
type Listen uint8

const (
	// ListenAuto (the default) LISTENs on a dedicated connection and checks
	// with a probe notification that notifications arrive; where they do not
	// (PgBouncer in transaction mode) Wait polls instead.
	ListenAuto Listen = iota
	// ListenOff never LISTENs: Wait polls every PollInterval.
	ListenOff
)

// Options configure a Backend. The zero value is valid.
type Options struct {
	// Schema holds the backend's tables (a plain identifier: lower-case
	// letters, digits and '_'); "" means "ladder_queue". Two backends with different
	// schemas share nothing.
	Schema string

	// Listen selects LISTEN/NOTIFY or polling for Wait; see Listen.
	Listen Listen

	// PollInterval is how often a polling Wait checks for a ready job; 0
	// means 100 ms.
	PollInterval time.Duration

	// Retention bounds the dead letters kept per queue (see
	// queue.Retention); they are trimmed in batches at most once a minute
	// by the calls that dead-letter jobs, and by Maintain.
	Retention queue.Retention

	// Logger logs state changes (listening, falling back to polling); nil
	// means slog.Default().
	Logger *slog.Logger
}

// ErrInvalidOptions is wrapped by every configuration and bad-input error
// of this package; errors.Is also matches it with queue.ErrInvalidOptions.
var ErrInvalidOptions error = invalidOptions{}

type invalidOptions struct{}

func (invalidOptions) Error() string        { return "pgqueue: invalid options" }
func (invalidOptions) Is(target error) bool { return target == queue.ErrInvalidOptions }

const (
	defaultSchema    = "ladder_queue"
	defaultPoll      = 100 * time.Millisecond
	defaultDeadAge   = 14 * 24 * time.Hour
	defaultDeadCount = 100_000
)

// Validate reports the first invalid field, wrapping ErrInvalidOptions.
func (o Options) Validate() error {
	if o.Schema != "" && !validIdent(o.Schema) {
		return fmt.Errorf("%w: Schema %q: want lower-case letters, digits and '_', not starting with a digit, at most 40 bytes", ErrInvalidOptions, o.Schema)
	}
	if o.Listen > ListenOff {
		return fmt.Errorf("%w: Listen %d: want ListenAuto or ListenOff", ErrInvalidOptions, o.Listen)
	}
	if o.PollInterval < 0 {
		return fmt.Errorf("%w: PollInterval %v: must be ≥ 0", ErrInvalidOptions, o.PollInterval)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.Schema == "" {
		o.Schema = defaultSchema
	}
	if o.PollInterval == 0 {
		o.PollInterval = defaultPoll
	}
	if o.Retention.MaxAge == 0 {
		o.Retention.MaxAge = defaultDeadAge
	}
	if o.Retention.MaxCount == 0 {
		o.Retention.MaxCount = defaultDeadCount
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// validIdent accepts a plain, unquoted PostgreSQL identifier short enough
// to carry the suffixes of the backend's index names.
func validIdent(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
