package redisqueue

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/ladder-go/ladder/queue"
)

// ErrInvalidOptions is wrapped by every configuration error of New and every
// bad argument of a Backend method; errors.Is also matches it with
// queue.ErrInvalidOptions.
var ErrInvalidOptions error = invalidOptions{}

type invalidOptions struct{}

func (invalidOptions) Error() string        { return "redisqueue: invalid options" }
func (invalidOptions) Is(target error) bool { return target == queue.ErrInvalidOptions }

// ErrNotReplicated is wrapped by the error of an Enqueue whose jobs the master
// stored but fewer than Options.WaitReplicas replicas confirmed within
// Options.WaitTimeout: the jobs may survive a failover or not. Enqueueing
// them again may run them twice (a UniqueKey prevents that).
var ErrNotReplicated = errors.New("redisqueue: enqueue not confirmed by enough replicas")

// Options configure a Backend. The zero value is valid.
type Options struct {
	// Prefix namespaces the keys: a queue's keys all begin with
	// "{<Prefix>:<queue>}", one hash tag, so a queue lives in one slot of a
	// Redis Cluster (and different queues spread over the slots). Default
	// "ladder:queue". It must not contain '{' or '}'.
	Prefix string

	// Retention bounds the dead letters kept per queue (the zero value: 14
	// days and 100,000); trimmed whenever a job is dead-lettered.
	Retention queue.Retention

	// MaxBatch caps the jobs one script call enqueues, fetches, extends or
	// settles; larger calls are split (so an Enqueue of more jobs than this is
	// atomic per batch, not as a whole). Each call holds Redis's single
	// thread while it runs: about 3 µs per job. Default 500.
	MaxBatch int

	// WaitReplicas, when > 0, makes Enqueue wait (Redis WAIT) until this many
	// replicas have the jobs before it returns, so that an acknowledged
	// enqueue survives a Sentinel failover; see the package doc. Default 0:
	// acknowledged by the master alone.
	WaitReplicas int

	// WaitTimeout bounds that wait; an Enqueue not confirmed in time returns
	// an error wrapping ErrNotReplicated. Default 1 s.
	WaitTimeout time.Duration

	// Logger receives warnings (a client that ignores context deadlines, a
	// malformed job dead-lettered); nil means slog.Default().
	Logger *slog.Logger

	// MeterProvider records the backend's metrics
	// (ladder.queue.redis.malformed); nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
}

func (o *Options) fill() error {
	if strings.ContainsAny(o.Prefix, "{}") {
		return fmt.Errorf("%w: Prefix %q: must not contain '{' or '}'", ErrInvalidOptions, o.Prefix)
	}
	if o.Prefix == "" {
		o.Prefix = "ladder:queue"
	}
	switch {
	case o.MaxBatch < 0:
		return fmt.Errorf("%w: MaxBatch %d: must be ≥ 0", ErrInvalidOptions, o.MaxBatch)
	case o.MaxBatch == 0:
		o.MaxBatch = 500
	case o.MaxBatch > 5000:
		return fmt.Errorf("%w: MaxBatch %d: must be ≤ 5000 (a script holds Redis while it runs)", ErrInvalidOptions, o.MaxBatch)
	}
	if o.WaitReplicas < 0 {
		return fmt.Errorf("%w: WaitReplicas %d: must be ≥ 0", ErrInvalidOptions, o.WaitReplicas)
	}
	switch {
	case o.WaitTimeout < 0:
		return fmt.Errorf("%w: WaitTimeout %v: must be ≥ 0", ErrInvalidOptions, o.WaitTimeout)
	case o.WaitTimeout == 0:
		o.WaitTimeout = time.Second
	}
	r := &o.Retention
	switch {
	case r.MaxAge == 0:
		r.MaxAge = 14 * 24 * time.Hour
	case r.MaxAge > 0 && r.MaxAge < time.Millisecond:
		return fmt.Errorf("%w: Retention.MaxAge %v: must be ≥ 1ms, or < 0 for no limit", ErrInvalidOptions, r.MaxAge)
	}
	if r.MaxCount == 0 {
		r.MaxCount = 100_000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}
