package health

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// ProberOptions configures a [Prober]. The zero value probes every 1s±10%
// with a 1s timeout, rise 2 and fall 3: a target that starts failing is
// Down within 3.3s (Fall × the longest Interval), which [Drain]'s default
// Delay of 4s covers, so a default rolling restart loses no request.
type ProberOptions struct {
	// Interval between two probes of one target; 0 means 1s (HAProxy
	// probes every 2s with fall 3; a probe of a readiness endpoint costs a
	// backend one tiny request a second per prober); negative is an error.
	Interval time.Duration
	// Timeout of one probe; 0 means 1s; negative is an error. A probe that times out fails,
	// and so does one that ignores its context: it is abandoned a quarter
	// of Timeout later, and no other probe of its target starts until it
	// returns (each turn meanwhile counts as a failure).
	Timeout time.Duration
	// Jitter spreads probes: each wait is Interval ± Jitter×Interval, drawn
	// uniformly, so targets added together do not probe in lockstep.
	// 0 means 0.1; < 0 turns jitter off; above 1 is an error.
	Jitter float64
	// Rise is the number of consecutive successes that bring a Down target
	// Up; Fall the number of consecutive failures that bring an Up target
	// Down. 0 means 2 and 3; negative is an error. The first result of a
	// new target decides at once (see the package doc).
	Rise, Fall int
	// MeterProvider records probe durations and transitions; nil means the
	// global one.
	MeterProvider metric.MeterProvider
	// Logger logs transitions; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand draws the jitter; nil means math/rand/v2. Now and Rand are
	// called from every target's goroutine: they must be safe for
	// concurrent use.
	Rand func() uint64
}

// Prober probes named remote targets in the background and keeps a status
// per name. State belongs to the name, not the address: two names may probe
// the same address, and re-adding a name starts afresh.
//
// Create it with [NewProber]; a zero Prober uses the default options.
type Prober struct {
	cfg     ProberOptions
	initOne sync.Once

	mu      sync.RWMutex
	targets map[string]*target
	snap    atomic.Pointer[map[string]*target] // copy of targets for lock-free Status
	closed  bool
	wg      sync.WaitGroup

	subMu sync.Mutex
	subs  map[*subscription]struct{}

	duration    metric.Float64Histogram
	transitions metric.Int64Counter
	status      metric.Int64Gauge
}

type target struct {
	name   string
	probe  Probe
	ctx    context.Context
	cancel context.CancelFunc
	status atomic.Int32
	sets   outcomeSets
	// owned by the target's goroutine
	succ, fail int
	stuck      chan error // result of a probe that outlived its Timeout, until it returns
}

// NewProber validates opts and returns a Prober with no targets.
func NewProber(opts ProberOptions) (*Prober, error) {
	switch {
	case opts.Interval < 0:
		return nil, invalid("ProberOptions.Interval %v: must be ≥ 0 (0 means 1s)", opts.Interval)
	case opts.Timeout < 0:
		return nil, invalid("ProberOptions.Timeout %v: must be ≥ 0 (0 means 1s)", opts.Timeout)
	case opts.Rise < 0:
		return nil, invalid("ProberOptions.Rise %d: must be ≥ 1 (0 means 2)", opts.Rise)
	case opts.Fall < 0:
		return nil, invalid("ProberOptions.Fall %d: must be ≥ 1 (0 means 3)", opts.Fall)
	case opts.Jitter > 1 || opts.Jitter != opts.Jitter:
		return nil, invalid("ProberOptions.Jitter %v: must be ≤ 1", opts.Jitter)
	}
	p := &Prober{cfg: opts}
	p.initOne.Do(p.init)
	return p, nil
}

func (p *Prober) init() {
	c := &p.cfg
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = time.Second
	}
	switch {
	case c.Jitter == 0:
		c.Jitter = 0.1
	case c.Jitter < 0 || c.Jitter > 1 || c.Jitter != c.Jitter:
		c.Jitter = 0
	}
	if c.Rise <= 0 {
		c.Rise = 2
	}
	if c.Fall <= 0 {
		c.Fall = 3
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Uint64
	}
	m := meter(c.MeterProvider)
	var err error
	p.duration, err = m.Float64Histogram("ladder.health.probe.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of one active probe."))
	otelHandle(err)
	p.transitions, err = m.Int64Counter("ladder.health.probe.transitions",
		metric.WithUnit("{transition}"), metric.WithDescription("Status changes of probed targets."))
	otelHandle(err)
	p.status, err = m.Int64Gauge("ladder.health.probe.status",
		metric.WithDescription("Status of a probed target: 0 unknown, 1 up, 3 down."))
	otelHandle(err)
	p.targets = make(map[string]*target)
	p.publishSnapLocked()
	p.subs = make(map[*subscription]struct{})
}

// Add registers probe under name and starts probing it: at once, then every
// Interval±jitter. An empty name or nil probe is an ErrInvalidOptions error,
// a name already present ErrDuplicate, a closed Prober ErrClosed.
func (p *Prober) Add(name string, probe Probe) error {
	p.initOne.Do(p.init)
	if name == "" {
		return invalid("Prober.Add: empty name")
	}
	if probe == nil {
		return invalid("Prober.Add %q: nil probe", name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return fmt.Errorf("%w: Prober.Add %q", ErrClosed, name)
	}
	if _, ok := p.targets[name]; ok {
		return fmt.Errorf("%w: Prober.Add %q", ErrDuplicate, name)
	}
	t := &target{name: name, probe: probe, sets: newOutcomeSets(attrProbe, name)}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	p.targets[name] = t
	p.publishSnapLocked()
	p.wg.Add(1)
	go p.run(t)
	return nil
}

// Remove stops probing name and forgets its state; it reports whether name
// was present. Removal publishes no transition, and none of name is published
// after Remove returns; one that a slow subscriber was already being handed
// may still arrive.
func (p *Prober) Remove(name string) bool {
	p.initOne.Do(p.init)
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.targets[name]
	if ok {
		delete(p.targets, name)
		p.publishSnapLocked()
		t.cancel()
		// Under mu (lock order mu, subMu): a target re-added under the same
		// name by another goroutine publishes only after this, so its
		// first transition is not forgotten with the old one.
		p.forget(name)
	}
	return ok
}

// publishSnapLocked publishes a copy of targets; the caller holds p.mu.
func (p *Prober) publishSnapLocked() {
	m := make(map[string]*target, len(p.targets))
	for k, v := range p.targets {
		m[k] = v
	}
	p.snap.Store(&m)
}

// Status returns the current status of name and whether name is present.
// It takes no lock and allocates nothing.
func (p *Prober) Status(name string) (Status, bool) {
	p.initOne.Do(p.init)
	t, ok := (*p.snap.Load())[name]
	if !ok {
		return StatusUnknown, false
	}
	return Status(t.status.Load()), true
}

// Close stops every probe, ends every subscription (closing its channel) and
// waits for all the Prober's goroutines to return. It is idempotent and
// always returns nil.
func (p *Prober) Close() error {
	p.initOne.Do(p.init)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.wg.Wait()
		return nil
	}
	p.closed = true
	for _, t := range p.targets {
		t.cancel()
	}
	clear(p.targets)
	p.publishSnapLocked()
	p.mu.Unlock()
	p.subMu.Lock()
	for sub := range p.subs {
		sub.end()
	}
	clear(p.subs)
	p.subMu.Unlock()
	p.wg.Wait()
	return nil
}

func closeIdle(pr Probe) {
	if c, ok := pr.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (p *Prober) run(t *target) {
	defer p.wg.Done()
	// After the last probe, so no connection returns to the pool later.
	defer closeIdle(t.probe)
	defer func() {
		if t.stuck != nil {
			<-t.stuck
		}
	}()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-timer.C:
		}
		p.probeOnce(t)
		timer.Reset(p.nextWait())
	}
}

func (p *Prober) nextWait() time.Duration {
	d := p.cfg.Interval
	if p.cfg.Jitter > 0 {
		// uniform in [-1, 1)
		u := float64(p.cfg.Rand()>>11)/(1<<53)*2 - 1
		j := u * p.cfg.Jitter * float64(d) // |j| ≤ d: fits
		if float64(d)+j >= math.MaxInt64 {
			// A huge Interval must not wrap to a negative wait, which
			// would probe every millisecond.
			return math.MaxInt64
		}
		d += time.Duration(j)
	}
	if d <= 0 {
		d = time.Millisecond
	}
	return d
}

// probeOnce runs one probe in its own goroutine and waits at most
// Timeout×1.25 for it, so that a probe ignoring its context still fails. Such a
// probe is left to return on its own; until it does, no other probe of t
// starts and every turn counts as a failure.
func (p *Prober) probeOnce(t *target) {
	if t.stuck != nil {
		select {
		case <-t.stuck: // its late result is stale: probe afresh
			t.stuck = nil
		default:
			p.record(t, fmt.Errorf("health: probe %q: previous probe still running: %w", t.name, context.DeadlineExceeded), p.cfg.Now())
			return
		}
	}
	ctx, cancel := context.WithTimeout(t.ctx, p.cfg.Timeout)
	defer cancel()
	start := p.cfg.Now()
	resc := make(chan error, 1)
	p.wg.Add(1) // run is still counted: no race with Close's Wait
	go func() {
		defer p.wg.Done()
		resc <- safeProbe(ctx, t.probe)
	}()
	var err error
	select {
	case err = <-resc:
	case <-ctx.Done():
		// A probe that honours ctx returns at once, with a better error
		// than ours (a dial or TLS timeout, say): give it a moment.
		grace := time.NewTimer(p.cfg.Timeout / 4)
		select {
		case err = <-resc:
		case <-grace.C:
			t.stuck = resc
			err = fmt.Errorf("health: probe %q: no result after %v: %w", t.name, p.cfg.Timeout, ctx.Err())
		}
		grace.Stop()
	}
	end := p.cfg.Now()
	if t.ctx.Err() != nil {
		return // removed or closed: the result says nothing about the target
	}
	p.duration.Record(context.Background(), end.Sub(start).Seconds(), t.sets.pick(err))
	p.record(t, err, end)
}

func safeProbe(ctx context.Context, pr Probe) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v}
		}
	}()
	return pr.Probe(ctx)
}

// record applies one result to t's rise/fall state and publishes a
// transition if the status changed.
func (p *Prober) record(t *target, err error, at time.Time) {
	if err == nil {
		t.succ++
		t.fail = 0
	} else {
		t.fail++
		t.succ = 0
	}
	from := Status(t.status.Load())
	to := from
	switch {
	case from == StatusUnknown && err == nil:
		to = StatusUp
	case from == StatusUnknown:
		to = StatusDown
	case from == StatusDown && t.succ >= p.cfg.Rise:
		to = StatusUp
	case from == StatusUp && t.fail >= p.cfg.Fall:
		to = StatusDown
	}
	if to == from {
		return
	}
	// Publishing under the read lock orders it before any Remove or Close
	// that follows, which take the write lock.
	p.mu.RLock()
	defer p.mu.RUnlock()
	if t.ctx.Err() != nil {
		return
	}
	t.status.Store(int32(to))
	p.status.Record(context.Background(), int64(to), metric.WithAttributes(attrProbe.String(t.name)))
	tr := Transition{Name: t.name, From: from, To: to, Err: err, At: at}
	p.transitions.Add(context.Background(), 1, metric.WithAttributes(attrProbe.String(t.name), attrStatus.String(to.String())))
	if to == StatusDown {
		p.cfg.Logger.Warn("health: target down", "target", t.name, "from", from.String(), "err", err)
	} else {
		p.cfg.Logger.Info("health: target up", "target", t.name, "from", from.String())
	}
	p.publish(tr)
}
