package cache

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// flight is one load of one key, shared by every caller that missed it
// while it ran. Unlike golang.org/x/sync/singleflight it is keyed by the
// cache's own key type (no string conversion, no collisions), it recovers a
// panicking loader into an error for every waiter (singleflight's DoChan
// re-panics on a fresh goroutine, killing the process), a loader that calls
// runtime.Goexit resolves it too (see settle), and it lives under
// the same lock as Delete, which is what makes the version guard exact.
type flight[V any] struct {
	done    chan struct{}
	val     V
	err     error
	invalid bool // superseded by Set/Delete/Clear: do not store the result
	// leader is the span of the caller that started the load (the loader's
	// spans are its children), linked from the spans of callers that join.
	leader trace.SpanContext
}

// finished is the done channel of flights that never ran.
var finished = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// wait joins or starts the flight for key and waits for it on ctx.
func (a *Aside[K, V]) wait(ctx context.Context, key K, load loadFn[K, V]) (V, error) {
	f, started := a.start(ctx, key, load, nil)
	var zero V
	if f == nil {
		return zero, ErrClosed
	}
	if !started && f.done != finished {
		a.joined(ctx, f)
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
// Both ways in check the store again under a.mu, where loads publish, so
// that one renewal of an entry means one load however callers interleave
// with a load that finishes. A caller that missed (seen == nil) gets a
// fresh entry stored since it looked as a finished flight: another load
// stored its value (and left) just before. A caller renewing an entry in
// the background (stale-while-revalidate, refresh-ahead, XFetch) passes the
// entry it read, and starts no load (nil, false) unless the store still
// holds that entry: otherwise a reload, a Set or a Delete got there first.
func (a *Aside[K, V]) start(ctx context.Context, key K, load loadFn[K, V], seen *Entry[V]) (*flight[V], bool) {
	a.mu.Lock()
	if f := a.flights[key]; f != nil {
		a.mu.Unlock()
		return f, false
	}
	if a.closed {
		a.mu.Unlock()
		return nil, false
	}
	if seen == nil {
		if e := a.storedFresh(key); e != nil {
			a.mu.Unlock()
			return &flight[V]{done: finished, val: e.Value}, false
		}
	} else if cur, ok := a.store.Get(key); !ok || cur != seen { // stores hand out the pointer they were given
		a.mu.Unlock()
		return nil, false
	}
	f := &flight[V]{done: make(chan struct{}), leader: trace.SpanContextFromContext(ctx)}
	a.flights[key] = f
	a.wg.Add(1)
	a.mu.Unlock()
	go a.run(context.WithoutCancel(ctx), key, f, load)
	return f, true
}

// joined marks the span of a caller that joined f, a load another caller
// started, with a "cache.load.joined" event and a link to that caller's
// span: the trace of the load is there. Only a recording span pays.
func (a *Aside[K, V]) joined(ctx context.Context, f *flight[V]) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() || !f.leader.IsValid() || f.leader.Equal(span.SpanContext()) {
		return
	}
	a.joinedSpan(span, f.leader)
}

// maxJoinLinks bounds the links one GetMany adds for the loads it joins.
const maxJoinLinks = 16

func (a *Aside[K, V]) joinedSpan(span trace.Span, leader trace.SpanContext) {
	span.AddLink(trace.Link{SpanContext: leader, Attributes: []attribute.KeyValue{linkJoined}})
	if a.opts.Name != "" {
		span.AddEvent("cache.load.joined", trace.WithAttributes(attribute.String("ladder.cache.name", a.opts.Name)))
	} else {
		span.AddEvent("cache.load.joined")
	}
}

// linkJoined marks the link from a caller that joined a load to the span of
// the caller that started it.
var linkJoined = attribute.String("ladder.cache.link", "cache.load.joined")

// run executes one load of key and publishes it to the flight's waiters.
func (a *Aside[K, V]) run(parent context.Context, key K, f *flight[V], load loadFn[K, V]) {
	var v V
	var m Meta
	a.settle(parent, "load", func(ctx context.Context) (err error) {
		if load.meta != nil {
			v, m, err = load.meta(ctx, key)
		} else {
			v, err = load.plain(ctx, key)
		}
		return err
	}, func(err error, end, took int64) {
		if !f.invalid {
			switch {
			case err == nil && m.TTL >= 0:
				_ = a.put(key, a.entry(v, m, end, took, false)) // too large: served, not stored
			case err == nil: // "do not cache": nor keep serving what an earlier load stored
				a.store.Delete(key)
			case errors.Is(err, a.notFound) && a.opts.NegativeTTL > 0:
				var zero V
				_ = a.put(key, a.entry(zero, Meta{}, end, took, true))
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
		close(f.done)
	})
}

// settle runs one load, of a key or a batch, and resolves its flights
// however the loader ends: it returns; it panics (recovered into a
// *PanicError); or it calls runtime.Goexit, as t.FailNow does (waiters get
// ErrGoexit, and the Goexit goes on ending this goroutine, the loader's
// own). It is the one path by which flights resolve, so no waiter outlives
// it, as in golang.org/x/sync/singleflight's doCall. load runs under a ctx
// bounded by LoadTimeout and cancelled by Close. publish runs with a.mu held
// whatever happened: it stores the outcome, sets each flight's result,
// unregisters and closes it.
func (a *Aside[K, V]) settle(parent context.Context, what string, load func(context.Context) error, publish func(err error, end, took int64)) {
	defer a.wg.Done()
	ctx, cancel := context.WithTimeout(parent, a.opts.LoadTimeout)
	stop := context.AfterFunc(a.done, cancel)
	start := a.exactNow()
	var err error
	returned := false // stays false only if load called runtime.Goexit
	defer func() {
		if !returned {
			err = ErrGoexit
			a.log.Error("cache: loader called runtime.Goexit", "cache", a.opts.Name)
		}
		end := a.exactNow()
		stop()
		cancel()
		a.recordLoad(parent, time.Duration(end-start), err)
		a.mu.Lock()
		defer a.mu.Unlock()
		publish(err, end, end-start)
	}()
	err = a.protect(what, func() error { return load(ctx) })
	returned = true
}

// loadFn is either kind of loader, passed by value so that callers who only
// join a flight allocate no adapter.
type loadFn[K comparable, V any] struct {
	plain Loader[K, V]
	meta  MetaLoader[K, V]
}

// protect runs f, recovering a panic into a *PanicError and prefixing
// errors other than the not-found sentinel. A runtime.Goexit in f is not a
// panic: recover returns nil and the Goexit goes on.
func (a *Aside[K, V]) protect(what string, f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			a.log.Error("cache: loader panicked", "cache", a.opts.Name, "panic", p)
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	if err = f(); err != nil && !errors.Is(err, a.notFound) {
		err = within(what, err)
	}
	return err
}
