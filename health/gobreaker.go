package health

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// GoBreakerOptions configures a [GoBreaker].
type GoBreakerOptions struct {
	// Settings are passed to gobreaker.NewTwoStepCircuitBreaker; their zero
	// value is gobreaker's default (trip after more than 5 consecutive
	// failures, 60s open, one trial call when half-open). Settings.Name is
	// replaced by the breaker's name. Errors that are the caller's context
	// being done are always excluded, in addition to Settings.IsExcluded.
	// Settings.OnStateChange is called under gobreaker's lock: keep it
	// short, and do not call the breaker from it (Allow, State and Counts
	// take that lock and would deadlock).
	Settings gobreaker.Settings
	// MeterProvider records rejections and state; nil means the global one.
	MeterProvider metric.MeterProvider
	// Logger logs state changes; nil means slog.Default().
	Logger *slog.Logger
}

// GoBreaker is a [Breaker] over github.com/sony/gobreaker/v2's two-step
// circuit breaker: closed, open after ReadyToTrip, half-open after Timeout.
type GoBreaker struct {
	cb         *gobreaker.TwoStepCircuitBreaker[struct{}]
	rejections atomic.Uint64
	rejCounter metric.Int64Counter
	rejOpts    []metric.AddOption // precomputed: a variadic call would allocate
	stateGauge metric.Int64Gauge
	transCtr   metric.Int64Counter
	name       string
}

var _ Breaker = (*GoBreaker)(nil)

// Rejections returned by GoBreaker; built once so rejecting allocates nothing.
var (
	errGoOpen     = fmt.Errorf("%w: %w", ErrOpen, gobreaker.ErrOpenState)
	errGoTooMany  = fmt.Errorf("%w: half-open: %w", ErrOpen, gobreaker.ErrTooManyRequests)
	goBreakerToUs = [...]BreakerState{gobreaker.StateClosed: BreakerClosed,
		gobreaker.StateHalfOpen: BreakerHalfOpen, gobreaker.StateOpen: BreakerOpen}
)

// maxGoBreakerBuckets bounds Settings.Interval / Settings.BucketPeriod.
const maxGoBreakerBuckets = 1000

// NewGoBreaker returns a breaker named name (used in metrics). Settings with
// more than 1000 buckets (Interval / BucketPeriod) are an ErrInvalidOptions
// error.
func NewGoBreaker(name string, opts GoBreakerOptions) (*GoBreaker, error) {
	if name == "" {
		return nil, invalid("NewGoBreaker: empty name")
	}
	if st := opts.Settings; st.Interval > 0 && st.BucketPeriod > 0 {
		// gobreaker rounds Interval up to whole buckets and allocates one
		// Counts per bucket: a tiny BucketPeriod exhausts memory, and an
		// Interval near the largest Duration overflows to no bucket at all,
		// which panics on the first call.
		if n := st.Interval / st.BucketPeriod; n >= maxGoBreakerBuckets || st.Interval > math.MaxInt64-st.BucketPeriod {
			return nil, invalid("GoBreaker %q: Settings.Interval %v / BucketPeriod %v: at most %d buckets",
				name, st.Interval, st.BucketPeriod, maxGoBreakerBuckets)
		}
	}
	b := &GoBreaker{name: name}
	m := meter(opts.MeterProvider)
	var err error
	b.rejCounter, err = m.Int64Counter("ladder.health.breaker.rejections", metric.WithUnit("{request}"),
		metric.WithDescription("Calls a circuit breaker rejected."))
	otelHandle(err)
	b.stateGauge, err = m.Int64Gauge("ladder.health.breaker.state",
		metric.WithDescription("Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 throttling."))
	otelHandle(err)
	b.transCtr, err = m.Int64Counter("ladder.health.breaker.transitions", metric.WithUnit("{transition}"),
		metric.WithDescription("Circuit breaker state changes."))
	otelHandle(err)
	b.rejOpts = []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attrBreaker.String(name)))}

	st := opts.Settings
	st.Name = name
	userExcluded, userChange := st.IsExcluded, st.OnStateChange
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	st.IsExcluded = func(err error) bool {
		return isCtxErr(err) || (userExcluded != nil && userExcluded(err))
	}
	st.OnStateChange = func(n string, from, to gobreaker.State) {
		s := goBreakerToUs[to]
		log.Info("health: breaker state", "breaker", name, "from", goBreakerToUs[from].String(), "to", s.String())
		b.stateGauge.Record(context.Background(), int64(s), metric.WithAttributeSet(attribute.NewSet(attrBreaker.String(name))))
		b.transCtr.Add(context.Background(), 1, metric.WithAttributes(attrBreaker.String(name), attrState.String(s.String())))
		if userChange != nil {
			userChange(n, from, to)
		}
	}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](st)
	b.stateGauge.Record(context.Background(), int64(BreakerClosed), metric.WithAttributeSet(attribute.NewSet(attrBreaker.String(name))))
	return b, nil
}

// Allow implements [Breaker]. A rejection wraps both ErrOpen and gobreaker's
// own error (gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests).
func (b *GoBreaker) Allow(ctx context.Context) (func(error), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done, err := b.cb.Allow()
	if err != nil {
		b.rejections.Add(1)
		b.rejCounter.Add(ctx, 1, b.rejOpts...)
		if err == gobreaker.ErrTooManyRequests {
			return nil, errGoTooMany
		}
		return nil, errGoOpen
	}
	return done, nil
}

// State implements [Breaker].
func (b *GoBreaker) State() BreakerState { return goBreakerToUs[b.cb.State()] }

// Rejections implements [Breaker].
func (b *GoBreaker) Rejections() uint64 { return b.rejections.Load() }

// Counts returns gobreaker's counts for the current generation.
func (b *GoBreaker) Counts() gobreaker.Counts { return b.cb.Counts() }
