package health

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Check is one named local check, such as "can I reach my database".
type Check struct {
	// Name identifies the check in reports, transitions and metrics.
	Name string
	// Func runs the check; nil error means healthy. It must return when
	// ctx is done; one that does not is reported down once Timeout passes
	// (an error wrapping context.DeadlineExceeded) and is not started again
	// until it returns. A panic is reported as a failure wrapping ErrPanic.
	Func func(ctx context.Context) error
	// Timeout bounds one run; 0 means CheckerOptions.Timeout; negative is an error.
	Timeout time.Duration
	// NonCritical checks degrade the aggregate status when they fail
	// instead of bringing it down: the service still takes traffic.
	NonCritical bool
}

// CheckerOptions configures a [Checker]. The zero value runs checks on
// demand with a 2s timeout and caches results for 1s.
type CheckerOptions struct {
	// Timeout is the default per-check timeout; 0 means 2s; negative is an
	// error (a check is always bounded).
	Timeout time.Duration
	// CacheTTL is how long a result is reused before the check runs again,
	// so a health endpoint polled hard cannot multiply load on the things it
	// checks. 0 means 1s; < 0 turns caching off (concurrent callers still
	// share one run).
	CacheTTL time.Duration
	// Interval, if > 0, switches to background mode: every check runs every
	// Interval (and once when added), and Report only reads the latest
	// results, never waiting on a check. Close stops it. 0 means on demand;
	// negative is an error.
	Interval time.Duration
	// OnTransition is called on every change of a check's status, and of
	// the aggregate status with Name "". Calls are serialised, in order, and
	// made with no lock held: the listener may call Status, Report, Add or
	// Shutdown, but not Close (which waits for it). It must not block for
	// long: later transitions wait for it.
	OnTransition func(Transition)
	// MeterProvider records check durations and statuses; nil means the
	// global one.
	MeterProvider metric.MeterProvider
	// Logger logs transitions; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// CheckResult is the latest outcome of one check.
type CheckResult struct {
	Name     string
	Status   Status // StatusUp, StatusDown, or StatusUnknown before the first run
	Err      error
	Critical bool
	Duration time.Duration
	At       time.Time // when the result was obtained; zero if never
}

// Report is the aggregate health of a Checker and the result of each check,
// sorted by name.
type Report struct {
	// Status is worst-wins: StatusDown if a critical check is down or the
	// Checker is shutting down, StatusUnknown if a critical check has no
	// result yet, StatusDegraded if only non-critical checks fail, else
	// StatusUp. A Checker with no checks is up.
	Status Status
	Checks []CheckResult
}

// Checker runs named local checks concurrently, each with its own timeout,
// caches their results, and aggregates them. Create it with [NewChecker]; a
// zero Checker is ready to use with the default options (on-demand mode).
type Checker struct {
	cfg     CheckerOptions
	initOne sync.Once

	mu       sync.Mutex
	checks   map[string]*checkState
	agg      atomic.Int32 // the aggregate Status; written under mu, read by Status without it
	shutdown bool
	closed   bool

	// Transitions waiting for OnTransition, appended under mu in the order
	// they happen. One goroutine at a time (the one that set delivering)
	// hands them to OnTransition with no lock held, so the listener may call
	// back into the Checker.
	queue      []Transition
	delivering bool

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	duration metric.Float64Histogram
	status   metric.Int64Gauge
}

type checkState struct {
	check    Check
	sets     outcomeSets
	checkSet metric.RecordOption

	mu      sync.Mutex
	res     CheckResult
	running chan struct{} // closed when the in-flight run has recorded its result
}

// NewChecker validates opts and returns a Checker with no checks. In
// background mode (Interval > 0) the caller must Close it.
func NewChecker(opts CheckerOptions) (*Checker, error) {
	switch {
	case opts.Timeout < 0:
		return nil, invalid("CheckerOptions.Timeout %v: must be ≥ 0 (0 means 2s)", opts.Timeout)
	case opts.Interval < 0:
		return nil, invalid("CheckerOptions.Interval %v: must be ≥ 0 (0 means on demand)", opts.Interval)
	}
	c := &Checker{cfg: opts}
	c.initOne.Do(c.init)
	if c.cfg.Interval > 0 {
		c.wg.Add(1)
		go c.loop()
	}
	return c, nil
}

func (c *Checker) init() {
	o := &c.cfg
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c.checks = make(map[string]*checkState)
	c.agg.Store(int32(StatusUp))
	c.ctx, c.cancel = context.WithCancel(context.Background())
	m := meter(o.MeterProvider)
	var err error
	c.duration, err = m.Float64Histogram("ladder.health.check.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of one local health check."))
	otelHandle(err)
	c.status, err = m.Int64Gauge("ladder.health.check.status",
		metric.WithDescription("Latest status of a health check: 0 unknown, 1 up, 2 degraded, 3 down."))
	otelHandle(err)
}

// Add registers a check. An empty name, nil Func or negative Timeout is an
// ErrInvalidOptions error; a name already present ErrDuplicate; after Close
// ErrClosed. In background mode the check runs at once, unless the Checker
// is shut down.
func (c *Checker) Add(chk Check) error {
	c.initOne.Do(c.init)
	switch {
	case chk.Name == "":
		return invalid("Checker.Add: empty Name")
	case chk.Func == nil:
		return invalid("check %q: nil Func", chk.Name)
	case chk.Timeout < 0:
		return invalid("check %q: Timeout %v: must be ≥ 0 (0 means CheckerOptions.Timeout)", chk.Name, chk.Timeout)
	}
	if chk.Timeout == 0 {
		chk.Timeout = c.cfg.Timeout
	}
	cs := &checkState{check: chk, sets: newOutcomeSets(attrCheck, chk.Name),
		checkSet: metric.WithAttributeSet(attribute.NewSet(attrCheck.String(chk.Name)))}
	cs.res = CheckResult{Name: chk.Name, Critical: !chk.NonCritical}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fmt.Errorf("%w: check %q", ErrClosed, chk.Name)
	}
	if _, ok := c.checks[chk.Name]; ok {
		return fmt.Errorf("%w: check %q", ErrDuplicate, chk.Name)
	}
	c.checks[chk.Name] = cs
	c.agg.Store(int32(c.aggregateLocked())) // a new check is unknown: not a transition worth a call
	if c.cfg.Interval > 0 && !c.shutdown {
		c.startLocked(cs, true)
	}
	return nil
}

// Status returns the latest aggregate status without running any check. It
// takes no lock and allocates nothing.
func (c *Checker) Status() Status {
	c.initOne.Do(c.init)
	return Status(c.agg.Load())
}

// Shutdown makes the aggregate status Down for good, whatever the checks say,
// and stops running them: a readiness endpoint over this Checker then tells
// balancers to stop sending traffic (see [Drain]). It is idempotent.
func (c *Checker) Shutdown() {
	c.initOne.Do(c.init)
	c.mu.Lock()
	c.shutdown = true
	c.recomputeLocked(nil)
}

// Close stops background runs, cancels running checks and waits for them to
// return (a check that ignores its context delays Close until it returns).
// It is idempotent and returns nil. Report keeps returning the last results.
func (c *Checker) Close() error {
	c.initOne.Do(c.init)
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

func (c *Checker) snapshot() []*checkState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*checkState, 0, len(c.checks))
	for _, cs := range c.checks {
		out = append(out, cs)
	}
	slices.SortFunc(out, func(a, b *checkState) int {
		if a.check.Name < b.check.Name {
			return -1
		}
		return 1
	})
	return out
}
