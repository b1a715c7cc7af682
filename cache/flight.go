package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"
)

// flight is one load of one key, shared by every caller that missed it
// while it ran. Unlike golang.org/x/sync/singleflight it is keyed by the
// cache's own key type (no string conversion, no collisions), it recovers a
// panicking loader into an error for every waiter (singleflight's DoChan
// re-panics on a fresh goroutine, killing the process), and it lives under
// the same lock as Delete, which is what makes the version guard exact.
type flight[V any] struct {
	done    chan struct{}
	val     V
	err     error
	invalid bool // superseded by Set/Delete/Clear: do not store the result
}

// finished is the done channel of flights that never ran.
var finished = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// slow handles everything but a fresh hit. now is 0 when the clock was not read.
func (a *Aside[K, V]) slow(ctx context.Context, key K, e *Entry[V], ok bool, now int64, load loadFn[K, V]) (V, error) {
	if ok && e.epoch == a.epoch.Load() {
		if now == 0 {
			now = a.now()
		}
		switch {
		case e.negative:
			if now < e.expires {
				a.c.hits.add()
				var zero V
				return zero, fmt.Errorf("cache: %w", a.notFound)
			}
		case e.expires == 0 || now < e.expires: // fresh, but due for an early refresh
			a.c.hits.add()
			if _, started := a.start(ctx, key, load, false); started {
				a.c.early.Add(1)
			}
			return e.Value, nil
		case now < after(e.expires, a.opts.StaleWhileRevalidate):
			a.c.stale.Add(1)
			if !heldOff(e, now) {
				if _, started := a.start(ctx, key, load, false); started {
					a.c.early.Add(1)
				}
			}
			return e.Value, nil
		case now < after(e.expires, a.opts.StaleIfError) && heldOff(e, now):
			a.c.stale.Add(1) // the last reload failed moments ago: do not wait for another
			return e.Value, nil
		case now < after(e.expires, a.opts.StaleIfError):
			a.c.misses.Add(1)
			v, err := a.wait(ctx, key, load)
			if err != nil && ctx.Err() == nil && !errors.Is(err, a.notFound) && !errors.Is(err, ErrClosed) {
				a.c.stale.Add(1)
				return e.Value, nil
			}
			return v, err
		}
	}
	a.c.misses.Add(1)
	return a.wait(ctx, key, load)
}

// wait joins or starts the flight for key and waits for it on ctx.
func (a *Aside[K, V]) wait(ctx context.Context, key K, load loadFn[K, V]) (V, error) {
	f, _ := a.start(ctx, key, load, true)
	var zero V
	if f == nil {
		return zero, ErrClosed
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// start returns the flight for key, starting one if none runs. It returns
// nil once the cache is closed.
//
// With recheck, a fresh entry stored since the caller looked is returned as
// a finished flight: a caller that missed just before another load stored
// its value (and left) must not start a second load.
func (a *Aside[K, V]) start(ctx context.Context, key K, load loadFn[K, V], recheck bool) (*flight[V], bool) {
	a.mu.Lock()
	if f := a.flights[key]; f != nil {
		a.mu.Unlock()
		return f, false
	}
	if a.closed {
		a.mu.Unlock()
		return nil, false
	}
	if recheck {
		if e := a.storedFresh(key); e != nil {
			a.mu.Unlock()
			return &flight[V]{done: finished, val: e.Value}, false
		}
	}
	f := &flight[V]{done: make(chan struct{})}
	a.flights[key] = f
	a.wg.Add(1)
	a.mu.Unlock()
	go a.run(context.WithoutCancel(ctx), key, f, load)
	return f, true
}

// storedFresh returns key's entry if it is current and unexpired.
func (a *Aside[K, V]) storedFresh(key K) *Entry[V] {
	e, ok := a.store.Get(key)
	if !ok || e.negative || e.epoch != a.epoch.Load() || (e.expires != 0 && a.now() >= e.expires) {
		return nil
	}
	return e
}

// run executes one load and publishes it to the flight's waiters.
func (a *Aside[K, V]) run(parent context.Context, key K, f *flight[V], load loadFn[K, V]) {
	defer a.wg.Done()
	ctx, cancel := context.WithTimeout(parent, a.opts.LoadTimeout)
	stop := context.AfterFunc(a.done, cancel)
	start := a.exactNow()
	v, m, err := a.call(ctx, key, load)
	end := a.exactNow()
	stop()
	cancel()
	a.recordLoad(parent, time.Duration(end-start), err)

	a.mu.Lock()
	if !f.invalid {
		switch {
		case err == nil && m.TTL >= 0:
			_ = a.put(key, a.entry(v, m, end, end-start, false)) // too large: served, not stored
		case err == nil: // "do not cache": nor keep serving what an earlier load stored
			a.store.Delete(key)
		case errors.Is(err, a.notFound) && a.opts.NegativeTTL > 0:
			var zero V
			_ = a.put(key, a.entry(zero, Meta{}, end, end-start, true))
		case errors.Is(err, a.notFound): // gone at the source: stale or refreshable, it is over
			a.store.Delete(key)
		default:
			a.holdOff(key, end)
		}
	}
	if a.flights[key] == f {
		delete(a.flights, key)
	}
	f.val, f.err = v, err
	a.mu.Unlock()
	close(f.done)
}

// retryAfter is how long a failed refresh or revalidation holds off.
const retryAfter = time.Second

// holdOff keeps a failed reload from re-running on every hit. A fresh entry
// keeps its value and expiry but is not refreshed early again for a while
// (refresh-ahead) or at all (XFetch); an expired entry still inside a stale
// window is not revalidated again for retryAfter, and meanwhile stale-if-error
// serves it without waiting for another failing load. a.mu held.
func (a *Aside[K, V]) holdOff(key K, now int64) {
	old, ok := a.store.Get(key)
	if !ok || old.negative || old.epoch != a.epoch.Load() {
		return
	}
	// Field by field, not *old: lock-free LRU hits write old.ref meanwhile.
	e := Entry[V]{Value: old.Value, Cost: old.Cost, expires: old.expires, refreshAt: old.refreshAt,
		delta: old.delta, epoch: old.epoch, negative: old.negative}
	if old.expires != 0 && now >= old.expires {
		if a.opts.StaleWhileRevalidate == 0 && a.opts.StaleIfError == 0 {
			return
		}
		e.refreshAt = after(now, retryAfter) // > expires: marks a hold-off
	} else {
		if old.refreshAt == 0 && old.delta == 0 {
			return
		}
		e.delta = 0
		if e.refreshAt != 0 {
			e.refreshAt = after(now, min(a.opts.RefreshAfter, retryAfter))
		}
	}
	_, _ = a.store.Set(key, &e)
}

// heldOff reports whether an expired entry is in a hold-off after a failed reload.
func heldOff[V any](e *Entry[V], now int64) bool {
	return e.refreshAt > e.expires && now < e.refreshAt
}

// call runs load, turning a panic into a *PanicError.
func (a *Aside[K, V]) call(ctx context.Context, key K, load loadFn[K, V]) (V, Meta, error) {
	return protect(a, "load", func() (V, Meta, error) {
		if load.meta != nil {
			return load.meta(ctx, key)
		}
		v, err := load.plain(ctx, key)
		return v, Meta{}, err
	})
}

// loadFn is either kind of loader, passed by value so that callers who only
// join a flight allocate no adapter.
type loadFn[K comparable, V any] struct {
	plain Loader[K, V]
	meta  MetaLoader[K, V]
}

// protect runs f, recovering a panic into a *PanicError and prefixing
// errors other than the not-found sentinel.
func protect[K comparable, V, R any](a *Aside[K, V], what string, f func() (R, Meta, error)) (r R, m Meta, err error) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("cache: loader panicked", "cache", a.opts.Name, "panic", p)
			var zero R
			r, m, err = zero, Meta{}, &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	r, m, err = f()
	if err != nil && !errors.Is(err, a.notFound) {
		err = fmt.Errorf("cache: %s: %w", what, err)
	}
	return r, m, err
}

// xfetchDue is XFetch (Vattani, Chierichetti & Lowenstein, VLDB 2015): refresh
// early when now − δ·β·ln(rand) ≥ expiry. −ln(rand) < 37 for a 53-bit rand,
// so entries further than 37·δ·β from expiry skip the logarithm.
func (a *Aside[K, V]) xfetchDue(e *Entry[V], now int64) bool {
	beta := a.opts.EarlyRefreshBeta
	if beta == 0 || e.expires == 0 || e.delta <= 0 {
		return false
	}
	window := float64(e.delta) * beta
	gap := float64(e.expires - now)
	if gap > 37*window {
		return false
	}
	u := (float64(a.rand()>>11) + 1) / (1 << 53) // (0, 1]
	return window*-math.Log(u) >= gap
}
