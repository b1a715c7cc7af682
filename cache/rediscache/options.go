package rediscache

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ladder-go/ladder/cache"
)

// ErrInvalidOptions is wrapped by every configuration error.
var ErrInvalidOptions = errors.New("rediscache: invalid options")

// ErrClosed is returned by Ready after Close.
var ErrClosed = errors.New("rediscache: closed")

// ErrL2 is wrapped by the error Set and Delete return when Redis could not
// be updated or told to invalidate (the local L1 change is made regardless).
var ErrL2 = errors.New("rediscache: L2 unavailable")

// Options configures a Cache. The zero value works.
type Options struct {
	// L1 configures the local tier (TTL, jitter, refresh, stale windows,
	// metrics). Its MeterProvider and Logger are shared with the L2 tier.
	L1 cache.Options

	// Prefix namespaces keys in Redis; default "ladder:cache:". Instances
	// sharing a Prefix share entries and invalidations. In Redis Cluster, do
	// not put a hash tag ({…}) in Prefix: every key would hash to one slot.
	Prefix string
	// Channel carries invalidations; default Prefix + "invalidate".
	Channel string
	// TTL of entries in Redis; 0 means L1.TTL, or 1 h if that is 0 too.
	TTL time.Duration
	// Timeout bounds each Redis command on the read path, so a slow Redis
	// leaves the loader time; default 250 ms, or a quarter of L1.LoadTimeout
	// if less. It must be below L1.LoadTimeout. go-redis enforces it only
	// with redis.Options.ContextTimeoutEnabled set (New logs a warning
	// otherwise); else its ReadTimeout (3 s by default) bounds a command.
	Timeout time.Duration
	// Backoff is how long L2 is skipped after a Redis error; default 1 s.
	Backoff time.Duration
	// Tombstone is how long a Delete blocks loader write-backs to Redis, so a
	// load that began before the Delete cannot store its older value there.
	// It must exceed L1.LoadTimeout; default L1.LoadTimeout (10 s if 0) + 1 s.
	Tombstone time.Duration
	// Codec encodes values for Redis; nil means JSON.
	Codec Codec
	// MaxValueSize is the largest encoded value written to Redis, in bytes;
	// 0 means 512 MiB, Redis's own limit. A larger value stays in the L1 of
	// the instance that has it: a loaded one is not written back, and Set
	// keeps it locally, removes the key from Redis and from the other
	// instances' L1s as a Delete does, and returns an error wrapping
	// cache.ErrTooLarge. Big values block Redis's single thread while they
	// are copied; a limit of a few hundred KiB is usual.
	MaxValueSize int
	// Heartbeat is how often an idle invalidation subscription is pinged; a
	// subscription that stays silent for another Heartbeat after a ping
	// (a half-open connection: a NAT or proxy dropped it, a server failed
	// over behind a VIP) is re-established and L1 cleared. Default 5 s.
	Heartbeat time.Duration
}

func (o *Options) fill() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"TTL", o.TTL}, {"Timeout", o.Timeout}, {"Backoff", o.Backoff}, {"Tombstone", o.Tombstone}, {"Heartbeat", o.Heartbeat}} {
		if d.v < 0 {
			return fmt.Errorf("%w: %s %v: must be ≥ 0", ErrInvalidOptions, d.name, d.v)
		}
	}
	if o.MaxValueSize < 0 {
		return fmt.Errorf("%w: MaxValueSize %d: must be ≥ 0", ErrInvalidOptions, o.MaxValueSize)
	}
	if o.MaxValueSize == 0 {
		o.MaxValueSize = 512 << 20
	}
	lt := o.L1.LoadTimeout // ≥ 0: cache.New has validated L1
	if lt == 0 {
		lt = 10 * time.Second // cache.Options' default
	}
	if o.Prefix == "" {
		o.Prefix = "ladder:cache:"
	}
	if o.Channel == "" {
		o.Channel = o.Prefix + "invalidate"
	}
	if o.TTL == 0 {
		o.TTL = o.L1.TTL
		if o.TTL <= 0 {
			o.TTL = time.Hour
		}
	}
	if o.Timeout == 0 {
		o.Timeout = min(250*time.Millisecond, lt/4)
	}
	if o.Timeout >= lt {
		return fmt.Errorf("%w: Timeout %v: must be below L1.LoadTimeout %v (a slow Redis would leave the loader no time)", ErrInvalidOptions, o.Timeout, lt)
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = 5 * time.Second
	}
	if o.Backoff == 0 {
		o.Backoff = time.Second
	}
	if o.Tombstone == 0 {
		o.Tombstone = lt + time.Second
	}
	if o.Tombstone <= lt {
		return fmt.Errorf("%w: Tombstone %v: must exceed L1.LoadTimeout %v", ErrInvalidOptions, o.Tombstone, lt)
	}
	if o.Codec == nil {
		o.Codec = JSON{}
	}
	if o.L1.Logger == nil {
		o.L1.Logger = slog.Default()
	}
	return nil
}

// badL1 is a bad L1 option reported as one of this package's, with the field
// named L1.<field>; it wraps both packages' ErrInvalidOptions.
type badL1 struct{ err error }

func (e badL1) Error() string {
	return ErrInvalidOptions.Error() + ": L1." + strings.TrimPrefix(e.err.Error(), cache.ErrInvalidOptions.Error()+": ")
}

func (e badL1) Unwrap() []error { return []error{ErrInvalidOptions, e.err} }
