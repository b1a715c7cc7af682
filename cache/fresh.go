package cache

import (
	"context"
	"errors"
	"math"
	"time"
)

// slow handles everything but a fresh hit. now is 0 when the clock was not read.
func (a *Aside[K, V]) slow(ctx context.Context, key K, e *Entry[V], ok bool, now int64, load loadFn[K, V]) (V, error) {
	if ok && e.epoch == a.epoch.Load() {
		if now == 0 {
			now = a.now()
		}
		switch {
		case e.negative:
			if now < e.expires {
				a.c.hits.Add(1)
				var zero V
				return zero, a.notFoundHit
			}
		case e.expires == 0 || now < e.expires: // fresh, but due for an early refresh
			a.c.hits.Add(1)
			if _, started := a.start(ctx, key, load, e); started {
				a.c.early.Add(1)
			}
			return e.Value, nil
		case now < after(e.expires, a.opts.StaleWhileRevalidate):
			a.c.stale.Add(1)
			if !heldOff(e, now) {
				if _, started := a.start(ctx, key, load, e); started {
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

// storedFresh returns key's entry if it is current and unexpired.
func (a *Aside[K, V]) storedFresh(key K) *Entry[V] {
	e, ok := a.store.Get(key)
	if !ok || e.negative || e.epoch != a.epoch.Load() || (e.expires != 0 && a.now() >= e.expires) {
		return nil
	}
	return e
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
