package health

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ThrottleOptions configures a [Throttle]. The zero value is the SRE book's:
// K 2 over a 2 minute window.
type ThrottleOptions struct {
	// K is how many requests per accepted one the client may send before it
	// starts throttling; 0 means 2. Lower is more aggressive; must be ≥ 1.
	K float64
	// Window is how far back requests and accepts are counted; 0 means 2m;
	// negative is an error.
	Window time.Duration
	// Buckets is the number of slices the window slides in; 0 means 20.
	Buckets int
	// IsFailure reports whether a call's non-nil error means the backend did
	// not accept the request (overload, unavailable). Nil means every error.
	// The caller's cancelled or expired context is never a failure.
	IsFailure func(err error) bool
	// MeterProvider records rejections and state; nil means the global one.
	MeterProvider metric.MeterProvider
	// Logger logs when throttling starts and stops; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand draws rejections; nil means math/rand/v2. Now and Rand are called
	// by every Allow: they must be safe for concurrent use.
	Rand func() uint64
}

// Throttle is the adaptive client-side throttle of Google's SRE book
// ("Handling Overload"): over a sliding window it counts the requests the
// client attempted and the ones the backend accepted, and rejects a new call
// locally with probability max(0, (requests − K·accepts) / (requests + 1)).
// A healthy backend sees no throttling; a failing one sees traffic shrink to
// about K times what it can accept, and recover as soon as it accepts more.
//
// Allow and done take no lock and allocate nothing; counts are approximate by
// at most a few calls at bucket boundaries.
type Throttle struct {
	k         float64
	bucketNs  int64
	base      time.Time // bucket 0 starts here; buckets count from it on the monotonic clock
	buckets   []throttleBucket
	lastIdx   atomic.Int64 // bucket of the latest Allow, used by done
	throttled atomic.Bool
	isFailure func(error) bool
	now       func() time.Time
	rand      func() uint64
	done      func(error)
	name      string
	log       *slog.Logger

	rejections atomic.Uint64
	rejCounter metric.Int64Counter
	stateGauge metric.Int64Gauge
	set        metric.MeasurementOption
	rejOpts    []metric.AddOption // precomputed: a variadic call would allocate
}

var _ Breaker = (*Throttle)(nil)

type throttleBucket struct {
	epoch    atomic.Int64
	requests atomic.Int64
	accepts  atomic.Int64
}

var errThrottled = fmt.Errorf("%w: throttled", ErrOpen)

// NewThrottle returns a throttle named name (used in metrics).
func NewThrottle(name string, opts ThrottleOptions) (*Throttle, error) {
	switch {
	case name == "":
		return nil, invalid("NewThrottle: empty name")
	case opts.K != 0 && !(opts.K >= 1 && opts.K <= math.MaxFloat64): // +Inf made the drop probability NaN
		return nil, invalid("ThrottleOptions.K %v: must be finite and ≥ 1", opts.K)
	case opts.Buckets < 0 || opts.Buckets > 1000:
		return nil, invalid("ThrottleOptions.Buckets %d: must be in 1..1000", opts.Buckets)
	case opts.Window < 0:
		return nil, invalid("ThrottleOptions.Window %v: must be ≥ 0 (0 means 2m)", opts.Window)
	}
	t := &Throttle{k: opts.K, isFailure: opts.IsFailure, now: opts.Now, rand: opts.Rand, name: name, log: opts.Logger}
	if t.log == nil {
		t.log = slog.Default()
	}
	if t.k == 0 {
		t.k = 2
	}
	window, n := opts.Window, opts.Buckets
	if window <= 0 {
		window = 2 * time.Minute
	}
	if n == 0 {
		n = 20
	}
	t.bucketNs = max(int64(window)/int64(n), 1)
	t.buckets = make([]throttleBucket, n)
	for i := range t.buckets {
		t.buckets[i].epoch.Store(math.MinInt64)
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.base = t.now()
	if t.rand == nil {
		t.rand = rand.Uint64
	}
	t.done = t.record
	m := meter(opts.MeterProvider)
	var err error
	t.rejCounter, err = m.Int64Counter("ladder.health.breaker.rejections", metric.WithUnit("{request}"),
		metric.WithDescription("Calls a circuit breaker rejected."))
	otelHandle(err)
	t.stateGauge, err = m.Int64Gauge("ladder.health.breaker.state",
		metric.WithDescription("Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 throttling."))
	otelHandle(err)
	t.set = metric.WithAttributeSet(attribute.NewSet(attrBreaker.String(name)))
	t.rejOpts = []metric.AddOption{t.set}
	t.stateGauge.Record(context.Background(), int64(BreakerClosed), t.set)
	return t, nil
}

// Allow implements [Breaker]. A rejection wraps ErrOpen.
func (t *Throttle) Allow(ctx context.Context) (func(error), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idx := t.index(t.now())
	if t.lastIdx.Load() != idx { // a shared write per call would bounce the cache line
		t.lastIdx.Store(idx)
	}
	p := t.probability(idx)
	if t.throttled.Load() != (p > 0) {
		t.setThrottled(ctx, p > 0)
	}
	if p > 0 && float64(t.rand()>>11)/(1<<53) < p {
		t.bucket(idx).requests.Add(1)
		t.rejections.Add(1)
		t.rejCounter.Add(ctx, 1, t.rejOpts...)
		return nil, errThrottled
	}
	return t.done, nil
}

// record is the done function of every allowed call. Requests are counted
// here rather than in Allow so that a cancelled call leaves no trace.
func (t *Throttle) record(err error) {
	if err != nil && isCtxErr(err) {
		return
	}
	b := t.bucket(t.lastIdx.Load())
	b.requests.Add(1)
	if err == nil || (t.isFailure != nil && !t.isFailure(err)) {
		b.accepts.Add(1)
	}
}

// index is the number of the bucket holding now. It counts from t.base with
// Sub, which uses the monotonic clock when both times carry it: a step of the
// wall clock neither forgets the window nor freezes it. A clock earlier than
// base (an injected one) gives a negative index, rounded down.
func (t *Throttle) index(now time.Time) int64 {
	d := int64(now.Sub(t.base))
	idx := d / t.bucketNs
	if d%t.bucketNs < 0 {
		idx--
	}
	return idx
}

func (t *Throttle) bucket(idx int64) *throttleBucket {
	n := int64(len(t.buckets))
	b := &t.buckets[(idx%n+n)%n]
	if e := b.epoch.Load(); e != idx && e < idx && b.epoch.CompareAndSwap(e, idx) {
		b.requests.Store(0)
		b.accepts.Store(0)
	}
	return b
}

func (t *Throttle) probability(idx int64) float64 {
	var req, acc int64
	n := int64(len(t.buckets))
	for i := range t.buckets {
		b := &t.buckets[i]
		if e := b.epoch.Load(); e <= idx && e > idx-n {
			req += b.requests.Load()
			acc += b.accepts.Load()
		}
	}
	return max(0, (float64(req)-t.k*float64(acc))/float64(req+1))
}

func (t *Throttle) setThrottled(ctx context.Context, on bool) {
	if t.throttled.CompareAndSwap(!on, on) {
		s := BreakerClosed
		if on {
			s = BreakerThrottling
		}
		t.stateGauge.Record(ctx, int64(s), t.set)
		t.log.Info("health: breaker state", "breaker", t.name, "to", s.String())
	}
}

// DropProbability is the probability with which Allow rejects a call now.
func (t *Throttle) DropProbability() float64 {
	return t.probability(t.index(t.now()))
}

// State implements [Breaker]: BreakerThrottling while the drop probability
// is above zero, BreakerClosed otherwise.
func (t *Throttle) State() BreakerState {
	if t.DropProbability() > 0 {
		return BreakerThrottling
	}
	return BreakerClosed
}

// Rejections implements [Breaker].
func (t *Throttle) Rejections() uint64 { return t.rejections.Load() }
