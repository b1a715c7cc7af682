package cache

import (
	"log/slog"
	"math"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Options configures an [Aside]. The zero value caches forever with no
// refresh, serves nothing stale, and loads with a 10 s timeout. Durations
// must not be negative.
type Options struct {
	// TTL is how long an entry is fresh; a loader or Set may override it per
	// entry through [Meta]. 0 means entries never expire (only evicted).
	TTL time.Duration
	// Jitter spreads each entry's TTL uniformly over ±Jitter×TTL (0.1 = ±10%)
	// so keys loaded together do not expire together. Must be in [0, 1].
	Jitter float64

	// EarlyRefreshBeta enables XFetch probabilistic early refresh: a hit
	// starts a background reload when now − δ·β·ln(rand) ≥ expiry, where δ is
	// how long the entry took to load. 1 is the paper's default; larger
	// refreshes earlier. 0 disables. If an early refresh fails, that entry is
	// not refreshed early again; it expires normally.
	EarlyRefreshBeta float64
	// RefreshAfter starts a background reload on the first hit once an entry
	// is this old, while the current value keeps being served (refresh-ahead,
	// Caffeine's refreshAfterWrite). 0 disables. A failed refresh is retried
	// no sooner than min(RefreshAfter, 1 s) later, not on every hit.
	RefreshAfter time.Duration
	// StaleWhileRevalidate serves an expired entry for this long after its
	// expiry while one background reload runs (RFC 5861).
	StaleWhileRevalidate time.Duration
	// StaleIfError serves an expired entry for this long after its expiry
	// when the reload fails (RFC 5861). Cancellation is never hidden. After a
	// failed reload (in either stale window) the entry is not reloaded again
	// for 1 s: callers get the stale value at once instead of hammering a
	// failing source.
	StaleIfError time.Duration

	// LoadTimeout bounds each load, which runs detached from its callers'
	// cancellation. 0 means 10 s.
	LoadTimeout time.Duration
	// NotFound is the error a loader returns for a key that does not exist;
	// nil means [ErrNotFound]. With NegativeTTL > 0 such results are cached
	// for NegativeTTL and returned as errors wrapping NotFound. Other errors
	// are never cached. A reload (refresh or revalidation) that returns
	// NotFound drops the entry it was reloading: stale windows never serve a
	// key the source says is gone.
	NotFound    error
	NegativeTTL time.Duration

	// Name tells caches apart in telemetry (attribute ladder.cache.name).
	Name string
	// MeterProvider for the cache's metrics; nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Logger for state changes (closed, load panics); nil means slog.Default().
	Logger *slog.Logger
	// ClockResolution is how often the cache's coarse clock ticks; 0 means
	// 1 ms. Hits judge expiry by that clock (one atomic load) instead of
	// reading the monotonic clock (~25 ns on some hosts, more than the rest
	// of a hit), so entries may live about one tick past their expiry. The
	// ticker runs only while the cache is read in most ticks (a tick costs
	// more CPU than the clock reads it saves otherwise) and parks when
	// reads are sparser, which then read the exact clock. It is started only
	// when TTL or RefreshAfter is set. Must be 0 or ≥ 100µs.
	ClockResolution time.Duration
	// ExactClock reads the monotonic clock on every hit that needs it
	// instead of running the coarse clock.
	ExactClock bool

	// Now and Rand make freshness deterministic in tests; nil means
	// time.Now and math/rand/v2. With Now set, no coarse clock runs.
	Now  func() time.Time
	Rand func() uint64
}

func (o *Options) validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"TTL", o.TTL}, {"RefreshAfter", o.RefreshAfter}, {"StaleWhileRevalidate", o.StaleWhileRevalidate},
		{"StaleIfError", o.StaleIfError}, {"LoadTimeout", o.LoadTimeout}, {"NegativeTTL", o.NegativeTTL},
		{"ClockResolution", o.ClockResolution},
	} {
		if d.v < 0 {
			return invalid("%s %v: must be ≥ 0", d.name, d.v)
		}
	}
	if o.ClockResolution > 0 && o.ClockResolution < 100*time.Microsecond {
		return invalid("ClockResolution %v: must be 0 or ≥ 100µs", o.ClockResolution)
	}
	if !(o.Jitter >= 0 && o.Jitter <= 1) {
		return invalid("Jitter %v: must be in [0, 1] (±0%%…±100%%)", o.Jitter)
	}
	if !(o.EarlyRefreshBeta >= 0) || math.IsInf(o.EarlyRefreshBeta, 0) {
		return invalid("EarlyRefreshBeta %v: must be a finite number ≥ 0", o.EarlyRefreshBeta)
	}
	return nil
}

// Meta is what a loader (or Set) may say about one entry.
type Meta struct {
	// TTL overrides Options.TTL for this entry; 0 keeps the default and a
	// negative TTL means "do not cache" (the value is still returned, and an
	// entry stored earlier for the key is dropped).
	TTL time.Duration
	// Cost counts against the store's MaxCost (e.g. the value's size in
	// bytes); ≤ 0 counts as 1.
	Cost int64
}
