package cache

import (
	"context"
	"errors"
	"fmt"
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
