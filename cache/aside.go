package cache

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Loader loads the value for key on a miss. It runs detached from the
// callers' cancellation, under a context bounded by Options.LoadTimeout and
// cancelled by Close, which waits for it: loaders must honour ctx. A loader
// must not Get the key it is loading from the same cache (it would wait for
// itself until the timeout). Every loader passed for one key should compute
// the same value: callers that miss together share whichever runs. A loader
// that panics or calls runtime.Goexit fails its load: waiters get an error
// wrapping [ErrPanic], or [ErrGoexit].
//
// ctx keeps the values of the caller that started the load (a background
// refresh: the caller that found the entry stale), so the loader's spans
// are children of that caller's span and its logs carry that trace ID;
// callers that joined the load wait for it under their own spans, which
// get a "cache.load.joined" event and a link to that caller's span.
type Loader[K comparable, V any] func(ctx context.Context, key K) (V, error)

// MetaLoader is a Loader that also sets the entry's TTL or cost.
type MetaLoader[K comparable, V any] func(ctx context.Context, key K) (V, Meta, error)

// Aside is a cache-aside front for a slow source: Get answers from the
// store, and on a miss runs the caller's loader once per key however many
// callers miss together. It is named for the pattern (cache-aside), and
// reads well at the call site: cache.New(store, …) returns an *Aside.
//
// Aside owns goroutines for loads and background refreshes; Close stops them.
// Build one with [New]: the zero Aside has no store and is not usable.
type Aside[K comparable, V any] struct {
	store    Store[K, V]
	opts     Options
	notFound error
	epoch    atomic.Uint64
	base     time.Time    // origin of entry timestamps
	clk      *coarseClock // nil when hits read the exact clock
	c        *counters
	inst     instruments
	log      *slog.Logger
	cleanup  runtime.Cleanup // stops clk and metrics if the Aside is dropped unclosed

	mu      sync.Mutex
	flights map[K]*flight[V]
	closed  bool

	wg        sync.WaitGroup
	closeDone chan struct{} // closed when Close has finished
	closeErr  error
	done      context.Context // cancelled by Close
	cancel    context.CancelFunc

	// What a cached "not found" and a key missing from a batch return:
	// notFound with the package prefix once, built once. Last, so the
	// fields hits read keep their cache lines.
	notFoundHit, notFoundBatch error
}

// New returns an Aside over store; a nil store means a [TinyLFU] of 10 000
// entries.
func New[K comparable, V any](store Store[K, V], opts Options) (*Aside[K, V], error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if store == nil {
		s, err := NewTinyLFU[K, V](10_000, StoreOptions{})
		if err != nil {
			return nil, err
		}
		store = s
	}
	if opts.LoadTimeout == 0 {
		opts.LoadTimeout = 10 * time.Second
	}
	a := &Aside[K, V]{store: store, opts: opts, notFound: opts.NotFound, flights: map[K]*flight[V]{}, log: opts.Logger, c: new(counters), closeDone: make(chan struct{})}
	if opts.Now != nil {
		a.base = opts.Now()
	} else {
		a.base = time.Now()
	}
	if a.notFound == nil {
		a.notFound = ErrNotFound
	}
	a.notFoundHit = within("", a.notFound)
	a.notFoundBatch = within("batch load", a.notFound)
	if a.log == nil {
		a.log = slog.Default()
	}
	if err := a.initMetrics(opts.MeterProvider); err != nil {
		return nil, fmt.Errorf("cache: metrics: %w", err)
	}
	// A TinyLFU samples this Aside's hit count for its climber, and is read
	// through a view that does not count them again: one striped add per
	// hit. Only the type itself: a user's type embedding one may wrap Get.
	if s, ok := store.(*TinyLFU[K, V]); ok {
		if v := s.countHitsIn(&a.c.hits); v != nil {
			a.store = v
		}
	}
	a.done, a.cancel = context.WithCancel(context.Background())
	if opts.Now == nil && !opts.ExactClock && (opts.TTL > 0 || opts.RefreshAfter > 0) {
		res := opts.ClockResolution
		if res == 0 {
			res = time.Millisecond
		}
		a.clk = startClock(a.base, res)
	}
	// Neither the clock's goroutine nor the metrics callback refers to a, so
	// a cache its user forgot to Close is still collected; this stops them.
	a.cleanup = runtime.AddCleanup(a, func(r owned) { r.release() }, owned{a.clk, a.inst.reg})
	return a, nil
}

// owned is what an Aside must release whether or not it is closed.
type owned struct {
	clk *coarseClock
	reg metric.Registration
}

func (r owned) release() error {
	if r.clk != nil {
		r.clk.close()
	}
	if r.reg == nil { // a MeterProvider may return none
		return nil
	}
	return r.reg.Unregister()
}

// Close cancels running loads and refreshes, waits for them, and stops
// metric collection. Hits are still served afterwards; misses return
// ErrClosed. Close is idempotent, and every call returns only once the
// goroutines are gone.
func (a *Aside[K, V]) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		<-a.closeDone
		return a.closeErr
	}
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	a.wg.Wait()
	a.cleanup.Stop()
	a.closeErr = owned{a.clk, a.inst.reg}.release() // hits read the real clock again
	close(a.closeDone)
	return a.closeErr
}

func (a *Aside[K, V]) rand() uint64 {
	if a.opts.Rand != nil {
		return a.opts.Rand()
	}
	return rand.Uint64()
}

// Get returns the value for key, loading it with load on a miss.
func (a *Aside[K, V]) Get(ctx context.Context, key K, load Loader[K, V]) (V, error) {
	if load == nil {
		var zero V
		return zero, ErrNilLoader
	}
	return a.get(ctx, key, loadFn[K, V]{plain: load})
}

// Fetch is Get with a loader that also returns the entry's Meta (TTL, cost).
func (a *Aside[K, V]) Fetch(ctx context.Context, key K, load MetaLoader[K, V]) (V, error) {
	if load == nil {
		var zero V
		return zero, ErrNilLoader
	}
	return a.get(ctx, key, loadFn[K, V]{meta: load})
}

// get is Get and Fetch once their loader is known to be set.
func (a *Aside[K, V]) get(ctx context.Context, key K, load loadFn[K, V]) (V, error) {
	e, ok := a.store.Get(key)
	now, hit := a.fresh(e, ok)
	if hit {
		return e.Value, nil
	}
	return a.slow(ctx, key, e, ok, now, load)
}

// fresh reports a hit on a current, fresh entry needing no refresh, reading
// the clock at most once (and not at all for entries that never expire).
func (a *Aside[K, V]) fresh(e *Entry[V], ok bool) (now int64, hit bool) {
	if !ok || e.negative || e.epoch != a.epoch.Load() {
		return 0, false
	}
	if e.expires == 0 && e.refreshAt == 0 {
		a.c.hits.Add(1)
		return 0, true
	}
	now = a.now()
	if (e.expires == 0 || now < e.expires) && (e.refreshAt == 0 || now < e.refreshAt) && (a.opts.EarlyRefreshBeta == 0 || !a.xfetchDue(e, now)) {
		a.c.hits.Add(1)
		return now, true
	}
	return now, false
}

// Lookup returns the value of a fresh entry that needs no refresh, counting
// a hit, like a Get that hits. Otherwise it returns false and counts nothing:
// a Get or Fetch then does what is due. Tiers built on an Aside use it so a
// hit costs no loader closure.
func (a *Aside[K, V]) Lookup(key K) (V, bool) {
	e, ok := a.store.Get(key)
	if _, hit := a.fresh(e, ok); hit {
		return e.Value, true
	}
	var zero V
	return zero, false
}

// Peek returns a fresh cached value without loading or counting.
func (a *Aside[K, V]) Peek(key K) (V, bool) {
	e := a.storedFresh(key)
	if e == nil {
		var zero V
		return zero, false
	}
	return e.Value, true
}

// Set stores v under key now, superseding any load in flight for key.
// It returns an error wrapping ErrTooLarge when the store refused the value
// (any older value is gone either way).
func (a *Aside[K, V]) Set(ctx context.Context, key K, v V, m Meta) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.invalidate(key)
	if m.TTL < 0 {
		a.store.Delete(key)
		return nil
	}
	return a.put(key, a.entry(v, m, a.now(), 0, false))
}

// Delete removes key. A load for key already running when Delete is called
// will not store its (possibly older) result; later Gets load afresh.
func (a *Aside[K, V]) Delete(ctx context.Context, key K) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.invalidate(key)
	a.store.Delete(key)
}

// Clear makes every current entry a miss, in O(1): entries carry the
// generation they were stored in. Loads in flight will not store.
func (a *Aside[K, V]) Clear() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.epoch.Add(1)
	for k, f := range a.flights {
		f.invalid = true
		delete(a.flights, k)
	}
}

// invalidate detaches the flight for key so its result is not stored. a.mu held.
func (a *Aside[K, V]) invalidate(key K) {
	if f := a.flights[key]; f != nil {
		f.invalid = true
		delete(a.flights, key)
	}
}

// put stores e, counting evictions and refusals. a.mu held.
func (a *Aside[K, V]) put(key K, e *Entry[V]) error {
	n, err := a.store.Set(key, e)
	a.c.evictions.Add(int64(n))
	if err != nil {
		a.c.rejected.Add(1)
	}
	return err
}

// entry builds what is stored for a value loaded at now in loadTook ns.
func (a *Aside[K, V]) entry(v V, m Meta, now, loadTook int64, negative bool) *Entry[V] {
	ttl := a.opts.TTL
	if m.TTL > 0 {
		ttl = m.TTL
	}
	if negative {
		ttl = a.opts.NegativeTTL
	}
	e := &Entry[V]{Value: v, Cost: m.Cost, delta: loadTook, epoch: a.epoch.Load(), negative: negative}
	if ttl > 0 {
		if j := a.opts.Jitter; j > 0 && !negative {
			f := float64(ttl) * (1 + j*(2*unit(a.rand())-1))
			ttl = math.MaxInt64 // float64(MaxInt64) rounds up to 2⁶³, which does not convert
			if f < math.MaxInt64 {
				ttl = time.Duration(f)
			}
		}
		e.expires = after(now, max(ttl, 1))
	}
	if r := a.opts.RefreshAfter; r > 0 && !negative && (ttl <= 0 || r < ttl) {
		e.refreshAt = after(now, r)
	}
	return e
}

// after is now+d, saturating instead of wrapping for durations near the
// maximum (a TTL of "practically forever" must not come out expired), and
// never 0, which means "never" (an injected clock may run before the origin).
func after(now int64, d time.Duration) int64 {
	if now > 0 && int64(d) > math.MaxInt64-now { // d ≥ 0
		return math.MaxInt64
	}
	if now+int64(d) == 0 {
		return 1
	}
	return now + int64(d)
}

// unit maps r to [0, 1).
func unit(r uint64) float64 { return float64(r>>11) / (1 << 53) }
