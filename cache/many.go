package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// BatchLoader loads many keys at once. Keys it leaves out of the result do
// not exist (they become not-found, negatively cached if enabled).
type BatchLoader[K comparable, V any] func(ctx context.Context, keys []K) (map[K]V, error)

// GetMany returns the values for keys, loading all misses with one call to
// load. Keys already being loaded by another Get join that load instead;
// Gets for the keys this call loads join it too. Keys that do not exist are
// left out of the result. An error from the batch load fails the call.
// GetMany serves fresh entries only: expired ones are reloaded in the batch
// (no stale serving), and it starts no early refreshes (an unexpired entry due
// for one is served as it is, without waiting for a refresh a Get started). A key given more
// than once is looked up, counted and loaded once.
func (a *Aside[K, V]) GetMany(ctx context.Context, keys []K, load BatchLoader[K, V]) (map[K]V, error) {
	if load == nil {
		return nil, ErrNilLoader
	}
	out := make(map[K]V, len(keys))
	seen := make(map[K]struct{}, len(keys)) // a key repeated in keys is one lookup
	var misses []K
	for _, k := range keys {
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		e, ok := a.store.Get(k)
		now, hit := a.fresh(e, ok)
		if hit {
			out[k] = e.Value
			continue
		}
		if ok && e.epoch == a.epoch.Load() && (e.expires == 0 || a.nowIfZero(now) < e.expires) {
			// Unexpired but due for an early refresh (no miss: not waiting for one a
			// Get may be running), or a cached "not found" (absent from the result).
			a.c.hits.Add(1)
			if !e.negative {
				out[k] = e.Value
			}
			continue
		}
		misses = append(misses, k)
	}
	if len(misses) == 0 {
		return out, nil
	}
	a.c.misses.Add(int64(len(misses)))
	waits, err := a.startBatch(ctx, misses, load)
	if err != nil {
		return nil, err
	}
	for k, f := range waits {
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		switch {
		case f.err == nil:
			out[k] = f.val
		case errors.Is(f.err, a.notFound):
		default:
			return nil, f.err
		}
	}
	return out, nil
}

// startBatch registers a flight for every key not already loading and runs
// one batch load for them.
func (a *Aside[K, V]) startBatch(ctx context.Context, keys []K, load BatchLoader[K, V]) (map[K]*flight[V], error) {
	waits := make(map[K]*flight[V], len(keys))
	var mine []K
	// Loads in flight this call joins, linked from its span if it records
	// (distinct leaders, at most maxJoinLinks).
	var joined []trace.SpanContext
	span := trace.SpanFromContext(ctx)
	recording := span.IsRecording()
	leader := span.SpanContext()
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	for _, k := range keys {
		if _, seen := waits[k]; seen {
			continue
		}
		f := a.flights[k]
		if f == nil {
			if e := a.storedFresh(k); e != nil {
				waits[k] = &flight[V]{done: finished, val: e.Value} // stored since we looked
				continue
			}
			f = &flight[V]{done: make(chan struct{}), leader: leader}
			a.flights[k] = f
			mine = append(mine, k)
		} else if recording && f.leader.IsValid() && !f.leader.Equal(leader) && len(joined) < maxJoinLinks && !slices.ContainsFunc(joined, f.leader.Equal) {
			joined = append(joined, f.leader)
		}
		waits[k] = f
	}
	if len(mine) > 0 {
		a.wg.Add(1)
		own := make(map[K]*flight[V], len(mine))
		for _, k := range mine {
			own[k] = waits[k]
		}
		go a.runBatch(context.WithoutCancel(ctx), mine, own, load)
	}
	a.mu.Unlock()
	for _, l := range joined {
		a.joinedSpan(span, l)
	}
	return waits, nil
}

// runBatch executes one batch load and publishes it to the flights of the
// keys it loads (own).
func (a *Aside[K, V]) runBatch(parent context.Context, keys []K, own map[K]*flight[V], load BatchLoader[K, V]) {
	var vals map[K]V
	a.settle(parent, "batch load", func(ctx context.Context) (err error) {
		vals, err = load(ctx, keys)
		return err
	}, func(err error, end, took int64) {
		if errors.Is(err, a.notFound) { // a batch cannot be "not found" as a whole
			err = fmt.Errorf("cache: batch load failed with the not-found error (%s): leave missing keys out of the result instead", strings.TrimPrefix(err.Error(), "cache: "))
		}
		for k, f := range own {
			v, found := vals[k]
			switch {
			case err != nil:
				f.err = err
			case found:
				f.val = v
				if !f.invalid {
					_ = a.put(k, a.entry(v, Meta{}, end, took, false))
				}
			default:
				f.err = a.notFoundBatch
				switch {
				case f.invalid:
				case a.opts.NegativeTTL > 0:
					var zero V
					_ = a.put(k, a.entry(zero, Meta{}, end, took, true))
				default: // gone at the source: a stale entry must not be served again
					a.store.Delete(k)
				}
			}
			if a.flights[k] == f {
				delete(a.flights, k)
			}
			close(f.done)
		}
	})
}
