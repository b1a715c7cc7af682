package lb

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Backend describes one member of a pool.
type Backend[T any] struct {
	// Name identifies the backend in the pool, in metrics and in sticky
	// cookies; it must be unique. Empty means fmt.Sprint(Value).
	Name string
	// Value is what Pick returns: a URL, a *sql.DB, a connection.
	Value T
	// Weight is the backend's share relative to the others. Zero means 1.
	Weight int
	// Zone is the backend's locality (zone, region, datacenter); see PoolOptions.Zones.
	Zone string
}

// PoolOptions configures a [Pool]. The zero value balances round robin with
// passive outlier ejection and Envoy's defaults.
type PoolOptions struct {
	// Policy chooses among healthy backends; nil means RoundRobin.
	Policy Policy
	// Zones lists localities in order of preference, nearest first. Traffic
	// stays in the first zone while it is healthy and spills to the next
	// ones in proportion to its unhealthy share (Envoy's priority levels).
	// Backends in zones not listed come after, in order of appearance.
	Zones []string
	// Overprovisioning is the factor by which a zone's healthy share is
	// multiplied before traffic spills: with 1.4 (the default), a zone keeps
	// all its traffic until more than 1/1.4 ≈ 71% of it is healthy.
	Overprovisioning float64
	// MaxInFlight, if positive, marks a backend saturated at that many
	// requests in flight; a pick landing on a saturated backend spills to
	// the next zone.
	MaxInFlight int
	// PanicThreshold: when fewer than this share of backends is healthy,
	// health is ignored and traffic goes to all of them (Envoy's panic
	// mode, zones ignored), since ejecting most of a fleet overloads the rest. Zero means
	// 0.5; negative disables.
	PanicThreshold float64
	// Outlier configures passive health checking.
	Outlier OutlierOptions
	// SlowStart configures the ramp-up of newly healthy backends.
	SlowStart SlowStartOptions
	// IsFailure classifies outcomes for outlier ejection and error metrics.
	// Nil means: an error other than a cancelled or expired context, or a
	// status ≥ 500. If it panics, the outcome is classified by the default
	// ([IsFailure]) and the panic logged once.
	IsFailure func(Outcome) bool
	// Now reads the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns uniform random numbers for the policies; nil means
	// math/rand/v2. Picks call it concurrently: it must be safe for that.
	Rand func() uint64
	// MeterProvider records per-backend metrics; nil means the global one.
	// Picks feed the metrics once the provider is seen recording: from
	// NewPool when it already does, otherwise from its first collection (a
	// global provider set later loses at most that first interval).
	// Requests started (ladder.lb.requests), errors and in flight
	// (ladder.lb.inflight, see [Endpoint.InFlight]) per backend are
	// counted by atomics and observed at collection; round robin's picks
	// are counted by its own turn counters, so telemetry adds nothing to
	// them. The latency histogram (ladder.lb.request.duration) is recorded
	// by Proxy and Transport per try, not by done, whose callers get
	// [Endpoint.Latency] instead.
	MeterProvider metric.MeterProvider
	// Logger logs ejections and re-admissions; nil means slog.Default().
	Logger *slog.Logger
}

// Pool is a set of backends of type T and the policy choosing among them.
// Picks read an immutable snapshot swapped atomically on every change of
// membership or health, so they take no lock. Create pools with
// [NewPool]; picks from a nil or empty pool return ErrNoBackend.
type Pool[T any] struct {
	opts PoolOptions
	// hookPanicked is set once IsFailure has panicked, policyFailed once a
	// custom policy has failed (each logged once).
	hookPanicked, policyFailed atomic.Bool
	policy                     Policy
	invDecay                   float64 // 1/decay in 1/ns, > 0 when the policy tracks latency: a multiplication is cheaper than a division
	tracker                    latencyTracker
	clock                      func() int64 // nanoseconds for latency averages
	met                        *poolMetrics
	mode                       int // modeTracked when the policy or MaxInFlight reads in-flight counts

	snap atomic.Pointer[snapshot[T]]

	mu       sync.Mutex
	members  []*Endpoint
	values   []T
	zoneRank map[string]int
	tick     stopper // slow start rebuild timer
	closed   bool
	watchers sync.WaitGroup
	stops    []func()

	// hookMu serialises membership changes with the member hooks (see
	// onMembers), so hooks see every change once and in order.
	hookMu sync.Mutex
	hooks  []*memberHook[T]
}

// memberHook is told the members after every successful Update.
type memberHook[T any] struct {
	fn func(names []string, vals []T) error
}

// NewPool returns a pool of backends. It fails with ErrInvalidOptions on
// duplicate names, negative weights or invalid options.
func NewPool[T any](backends []Backend[T], opts PoolOptions) (*Pool[T], error) {
	clock := monotonic
	if now := opts.Now; now != nil {
		clock = func() int64 { return now().UnixNano() }
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	p := &Pool[T]{opts: opts, policy: opts.Policy, zoneRank: map[string]int{}, clock: clock}
	if p.policy == nil {
		p.policy = RoundRobin()
	}
	if _, blind := p.policy.(loadBlind); !blind || opts.MaxInFlight > 0 {
		p.mode = modeTracked
	}
	if lt, ok := p.policy.(latencyTracker); ok {
		p.invDecay, p.tracker = 1/float64(lt.decay()), lt
	}
	for i, z := range opts.Zones {
		p.zoneRank[z] = i
	}
	met, err := newPoolMetrics(opts.MeterProvider, p.observeMembers)
	if err != nil {
		return nil, err
	}
	p.met = met
	if err := p.update(backends, true); err != nil {
		met.close()
		return nil, err
	}
	return p, nil
}

func (o *PoolOptions) validate() error {
	bad := func(field string, v any, why string) error {
		return fmt.Errorf("%w: %s %v: %s", ErrInvalidOptions, field, v, why)
	}
	switch {
	case o.Overprovisioning < 0 || o.Overprovisioning != o.Overprovisioning:
		return bad("Overprovisioning", o.Overprovisioning, "must be ≥ 0")
	case o.MaxInFlight < 0:
		return bad("MaxInFlight", o.MaxInFlight, "must be ≥ 0")
	case o.PanicThreshold > 1 || o.PanicThreshold != o.PanicThreshold:
		return bad("PanicThreshold", o.PanicThreshold, "must be ≤ 1")
	}
	seen := map[string]bool{}
	for _, z := range o.Zones {
		if seen[z] {
			return bad("Zones", o.Zones, fmt.Sprintf("zone %q listed twice", z))
		}
		seen[z] = true
	}
	if v, ok := o.Policy.(interface{ validate() error }); ok {
		if err := v.validate(); err != nil {
			return err
		}
	}
	if err := o.Outlier.validate(); err != nil {
		return err
	}
	if err := o.SlowStart.validate(); err != nil {
		return err
	}
	if o.Overprovisioning == 0 {
		o.Overprovisioning = 1.4
	}
	if o.PanicThreshold == 0 {
		o.PanicThreshold = 0.5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Uint64
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// Pick chooses a backend. The caller must call done exactly once with the
// outcome when the request finishes. It returns ErrNoBackend when the pool
// is empty.
func (p *Pool[T]) Pick() (backend T, done func(Outcome), err error) {
	return p.pickKeyed(0, false)
}

// PickKey chooses a backend for key: with the [Hash] policy equal keys go to
// the same backend; other policies ignore the key.
func (p *Pool[T]) PickKey(key string) (backend T, done func(Outcome), err error) {
	return p.pickKeyed(fnv64(key), true)
}

func (p *Pool[T]) pickKeyed(key uint64, keyed bool) (T, func(Outcome), error) {
	s := p.load()
	i := s.choose(key, keyed)
	if i < 0 {
		var zero T
		return zero, nil, ErrNoBackend
	}
	return s.vals[i], s.begin(s.all[i]), nil
}

func (p *Pool[T]) load() *snapshot[T] {
	if p == nil {
		return nil
	}
	return p.snap.Load()
}

// Endpoints returns the current members in order.
func (p *Pool[T]) Endpoints() []*Endpoint {
	if s := p.load(); s != nil {
		return slices.Clone(s.all)
	}
	return nil
}

// Healthy reports how many members are eligible for traffic (not ejected,
// not marked down) and how many there are.
func (p *Pool[T]) Healthy() (healthy, total int) {
	if s := p.load(); s != nil {
		return s.healthy, len(s.all)
	}
	return 0, 0
}

// Update replaces the members. Backends keeping their name, weight and zone
// keep their state (in flight, latency, ejection); others start in slow start.
func (p *Pool[T]) Update(backends []Backend[T]) error {
	return p.update(backends, false)
}

func (p *Pool[T]) update(backends []Backend[T], initial bool) error {
	if p == nil || p.policy == nil {
		return fmt.Errorf("%w: Pool not created by NewPool", ErrInvalidOptions)
	}
	p.hookMu.Lock()
	defer p.hookMu.Unlock()
	if err := p.updateLocked(backends, initial); err != nil {
		return err
	}
	if len(p.hooks) > 0 {
		names, vals := p.membersNow()
		for _, h := range p.hooks {
			if err := h.fn(names, vals); err != nil {
				p.opts.Logger.Error("lb: applying the new members", "err", err)
			}
		}
	}
	return nil
}

// onMembers calls fn with the current members, then again after every
// successful Update, serialised with Updates, until off is called. If the
// first call fails, fn is not registered and its error is returned.
func (p *Pool[T]) onMembers(fn func(names []string, vals []T) error) (off func(), err error) {
	p.hookMu.Lock()
	defer p.hookMu.Unlock()
	if err := fn(p.membersNow()); err != nil {
		return nil, err
	}
	h := &memberHook[T]{fn: fn}
	p.hooks = append(p.hooks, h)
	return func() {
		p.hookMu.Lock()
		defer p.hookMu.Unlock()
		p.hooks = slices.DeleteFunc(p.hooks, func(x *memberHook[T]) bool { return x == h })
	}, nil
}

// membersNow returns the members' names and values in order.
func (p *Pool[T]) membersNow() ([]string, []T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, len(p.members))
	for i, e := range p.members {
		names[i] = e.name
	}
	return names, slices.Clone(p.values)
}

func (p *Pool[T]) updateLocked(backends []Backend[T], initial bool) error {
	now := p.opts.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.met.mu.Lock()
	p.foldPicks() // before endpoints replaced below take over their counts
	p.met.mu.Unlock()
	old := make(map[string]*Endpoint, len(p.members))
	for _, e := range p.members {
		old[e.name] = e
	}
	members := make([]*Endpoint, 0, len(backends))
	values := make([]T, 0, len(backends))
	seen := make(map[string]bool, len(backends))
	for i, b := range backends {
		name := b.Name
		if name == "" {
			name = fmt.Sprint(b.Value)
		}
		switch {
		case seen[name]:
			return fmt.Errorf("%w: backend %d: Name %q: duplicate", ErrInvalidOptions, i, name)
		case b.Weight < 0:
			return fmt.Errorf("%w: backend %q: Weight %d: must be ≥ 0", ErrInvalidOptions, name, b.Weight)
		}
		seen[name] = true
		w := float64(max(b.Weight, 1))
		e := old[name]
		if e == nil || e.weight != w || e.zone != b.Zone {
			e = p.newEndpoint(name, b.Zone, w, e, now)
			if !initial {
				e.admitted = now
			}
		}
		delete(old, name)
		members = append(members, e)
		values = append(values, b.Value)
	}
	for _, e := range old {
		if e.ejectTimer != nil {
			e.ejectTimer.Stop()
		}
	}
	p.members, p.values = members, values
	p.rebuild(now)
	return nil
}

// newEndpoint builds the endpoint of a backend; prev is its previous
// endpoint when only its weight or zone changed, whose health it inherits
// (down, ejected and for how long); p.mu is held.
func (p *Pool[T]) newEndpoint(name, zone string, w float64, prev *Endpoint, now time.Time) *Endpoint {
	e := &Endpoint{name: name, zone: zone, weight: w, hash: fnv64(name)}
	if p.mode == modeBare {
		e.cells = new(flowCells) // only telemetry counts: per core
	}
	if prev != nil {
		e.ewma.Store(prev.ewma.Load())
		e.ewmaStamp.Store(prev.ewmaStamp.Load())
		p.met.replace(prev, e) // the counters' series go on
		e.errors.Store(prev.errors.Load())
		e.fails.Store(prev.fails.Load())
		e.down, e.ejections = prev.down, prev.ejections
		if prev.ejected {
			if prev.ejectTimer != nil {
				prev.ejectTimer.Stop()
			}
			e.ejected, e.ejectedUntil = true, prev.ejectedUntil
			e.ejectTimer = time.AfterFunc(max(0, prev.ejectedUntil.Sub(now)), func() { p.readmit(e) })
		}
	}
	e.met = p.met.endpoint(name, zone)
	for m := range e.dones {
		e.dones[m] = func(o Outcome) { p.finish(e, o, m) }
	}
	if p.opts.IsFailure == nil && p.invDecay == 0 {
		// Without latency tracking, a success after a success only undoes
		// what its pick counted: the common case skips finish.
		for _, m := range []int{modeBare, modeStarted} {
			e.dones[m] = func(o Outcome) {
				if o.Err == nil && o.Status < 500 && e.fails.Load() == 0 {
					return
				}
				p.finish(e, o, m)
			}
		}
		for _, m := range []int{modeTracked, modeCounted} {
			e.dones[m] = func(o Outcome) {
				if o.Err == nil && o.Status < 500 && e.fails.Load() == 0 {
					e.end()
					return
				}
				p.finish(e, o, m)
			}
		}
	}
	return e
}

// Close stops the pool's timers and health watchers and waits for them.
// Picks keep working on the last snapshot.
func (p *Pool[T]) Close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for _, e := range p.members {
		if e.ejectTimer != nil {
			e.ejectTimer.Stop()
		}
	}
	if p.tick != nil {
		p.tick.Stop()
	}
	stops := p.stops
	p.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
	p.watchers.Wait()
	if p.met != nil {
		p.met.close()
	}
	return nil
}
