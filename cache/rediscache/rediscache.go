package rediscache

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/redis/go-redis/v9"
)

// tombstone marks a deleted key in Redis; codecs never produce a leading NUL.
var tombstone = []byte("\x00ladder:tombstone")

// Cache is a two-tier cache: a local cache.Aside over a shared Redis.
type Cache[V any] struct {
	l1   *cache.Aside[string, V]
	rdb  redis.UniversalClient
	opts Options
	id   string // tells this instance's own invalidations apart
	log  *slog.Logger
	m    metrics

	downUntil atomic.Int64 // unix ns until which L2 is skipped
	wasDown   atomic.Bool

	psMu   sync.Mutex    // guards ps against Close; only the subscriber sets it
	ps     *redis.PubSub // the invalidation subscription; nil until subscribed
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	ready  chan struct{} // closed once the first subscription is confirmed
	done   chan struct{} // closed by Close
}

// New returns a Cache keeping its L1 in store (nil: cache.New's default,
// a TinyLFU of 10 000 entries) over Redis through rdb, and starts the invalidation subscriber.
// Close stops it and closes the L1; rdb stays open (it is the caller's).
// New does not wait for Redis: until the subscription is confirmed (one
// round trip) the instance cannot hear invalidations, so at confirmation it
// clears whatever its L1 took in meanwhile (Redis still has it); [Cache.Ready]
// waits for that moment.
func New[V any](rdb redis.UniversalClient, store cache.Store[string, V], opts Options) (*Cache[V], error) {
	if rdb == nil {
		return nil, fmt.Errorf("%w: nil redis client", ErrInvalidOptions)
	}
	l1, err := cache.New(store, opts.L1) // validates L1 first: fill reads it
	if errors.Is(err, cache.ErrInvalidOptions) {
		return nil, badL1{err}
	} else if err != nil {
		return nil, fmt.Errorf("rediscache: L1: %w", err)
	}
	if err := opts.fill(); err != nil {
		l1.Close()
		return nil, err
	}
	if !contextTimeouts(rdb) {
		opts.L1.Logger.Warn("rediscache: the Redis client ignores context deadlines (ContextTimeoutEnabled is false): a stalled Redis holds each L1 miss for the client's ReadTimeout, not Options.Timeout")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	c := &Cache[V]{l1: l1, rdb: rdb, opts: opts, id: hex.EncodeToString(b[:]), log: opts.L1.Logger, ready: make(chan struct{}), done: make(chan struct{})}
	if err := c.m.init(opts.L1.MeterProvider, opts.L1.Name); err != nil {
		l1.Close()
		return nil, fmt.Errorf("rediscache: metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wg.Add(1)
	go c.subscribe(ctx) // subscribes there: a stalled Redis must not stall New
	return c, nil
}

// contextTimeouts reports whether rdb honours ctx deadlines on its I/O,
// which Options.Timeout relies on (true when it cannot tell).
func contextTimeouts(rdb redis.UniversalClient) bool {
	switch c := rdb.(type) {
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Ready waits until this instance hears other instances' invalidations
// (its first subscription is confirmed). Call it during start-up, before
// reporting the service ready, when a stale read right after start matters.
// It returns ctx's error if ctx ends first, and ErrClosed after Close.
func (c *Cache[V]) Ready(ctx context.Context) error {
	select { // closed first: a select picks at random among ready cases
	case <-c.done:
		return ErrClosed
	default:
	}
	select {
	case <-c.ready:
		return nil
	case <-c.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the subscriber and closes the L1. It is idempotent.
func (c *Cache[V]) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		c.cancel()
		c.psMu.Lock()
		if c.ps != nil { // else the subscriber closes its own once it has one
			err = c.ps.Close()
		}
		c.psMu.Unlock()
		c.wg.Wait()
		err = errors.Join(err, c.l1.Close())
	})
	return err
}

// L1 returns the local tier (for Peek, Clear and its metrics).
func (c *Cache[V]) L1() *cache.Aside[string, V] { return c.l1 }

// Get returns the value for key from L1, else from Redis, else from load
// (writing it back to Redis). Redis errors are never returned: a miss then
// goes straight to load.
func (c *Cache[V]) Get(ctx context.Context, key string, load cache.Loader[string, V]) (V, error) {
	if load == nil {
		var zero V
		return zero, cache.ErrNilLoader
	}
	if v, ok := c.l1.Lookup(key); ok { // a hit builds no closure
		return v, nil
	}
	return c.l1.Get(ctx, key, func(ctx context.Context, key string) (V, error) {
		if v, ok := c.getL2(ctx, key); ok {
			return v, nil
		}
		v, err := load(ctx, key)
		if err == nil {
			c.fillL2(ctx, key, v)
		}
		return v, err
	})
}

func (c *Cache[V]) l2Up() bool { return time.Now().UnixNano() >= c.downUntil.Load() }

// l2Failed records a Redis error and skips L2 for the back-off. (Set and
// Delete first rule out their caller's ctx; on the read path the ctx is the
// load's own budget, and Redis using it up is a Redis failure.)
func (c *Cache[V]) l2Failed(ctx context.Context, op string, err error) {
	c.m.errors.Add(ctx, 1, c.m.attrs)
	c.downUntil.Store(time.Now().Add(c.opts.Backoff).UnixNano())
	if !c.wasDown.Swap(true) {
		c.log.Warn("rediscache: L2 unavailable, serving L1 and loader", "op", op, "err", err, "backoff", c.opts.Backoff)
	}
}

// keyError reports a Redis reply about one key (a value of another type
// under the prefix), which says nothing about Redis being reachable.
func keyError(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}

func (c *Cache[V]) l2OK() {
	if c.wasDown.Swap(false) {
		c.log.Info("rediscache: L2 available again")
	}
}

func (c *Cache[V]) getL2(ctx context.Context, key string) (V, bool) {
	var v V
	if !c.l2Up() {
		return v, false
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	b, err := c.rdb.Get(ctx, c.opts.Prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		c.l2OK()
		c.m.misses.Add(ctx, 1, c.m.attrs)
		return v, false
	case keyError(err): // this key alone is unusable; L2 is up
		c.m.errors.Add(ctx, 1, c.m.attrs)
		c.log.Warn("rediscache: unreadable L2 key", "err", err)
		return v, false
	case err != nil:
		c.l2Failed(parent, "get", err)
		return v, false
	}
	c.l2OK()
	if bytes.Equal(b, tombstone) {
		c.m.misses.Add(ctx, 1, c.m.attrs)
		return v, false
	}
	if err := decode(c.opts.Codec, b, &v); err != nil {
		c.m.errors.Add(ctx, 1, c.m.attrs) // undecodable: treat as a miss, the fill overwrites it
		c.log.Warn("rediscache: undecodable L2 value", "err", err)
		var zero V
		return zero, false
	}
	c.m.hits.Add(ctx, 1, c.m.attrs)
	return v, true
}

// fillL2 writes a loaded value back unless the key exists — in particular
// unless a Delete left a tombstone since the load began.
func (c *Cache[V]) fillL2(ctx context.Context, key string, v V) {
	if !c.l2Up() {
		return
	}
	b, err := encode(c.opts.Codec, v)
	if err != nil {
		c.log.Warn("rediscache: cannot encode value", "err", err)
		return
	}
	if len(b) > c.opts.MaxValueSize { // L1 only
		return
	}
	tctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if err := c.rdb.SetNX(tctx, c.opts.Prefix+key, b, c.opts.TTL).Err(); err != nil {
		c.l2Failed(ctx, "setnx", err)
	}
}

// Set stores v in L1 and Redis and evicts key from every other instance's L1.
// A Redis failure is returned wrapping ErrL2 (the local L1 holds v
// regardless); a value too large for the L1 store is still written to Redis
// and the error wraps cache.ErrTooLarge. A value the codec cannot encode
// changes nothing. A negative m.TTL ("do not cache") is a Delete. If ctx
// ends first, the error wraps ctx.Err() instead of ErrL2.
func (c *Cache[V]) Set(ctx context.Context, key string, v V, m cache.Meta) error {
	if m.TTL < 0 {
		return c.Delete(ctx, key)
	}
	b, err := encode(c.opts.Codec, v) // before L1: no instance may hold what others cannot read
	if err != nil {
		return fmt.Errorf("rediscache: encode: %w", err)
	}
	l1err := c.l1.Set(ctx, key, v, m) // too large for L1 may still suit Redis
	if len(b) > c.opts.MaxValueSize { // too large for Redis: L1 here, nowhere else
		tooLarge := fmt.Errorf("rediscache: set %q: encoded value of %d bytes > MaxValueSize %d, kept in this instance's L1 only: %w", key, len(b), c.opts.MaxValueSize, cache.ErrTooLarge)
		return errors.Join(l1err, tooLarge, c.invalidateL2(ctx, key))
	}
	ttl := c.opts.TTL
	if m.TTL > 0 {
		ttl = m.TTL
	}
	pipe := c.rdb.TxPipeline()
	pipe.Set(ctx, c.opts.Prefix+key, b, ttl)
	pipe.Publish(ctx, c.opts.Channel, c.id+"|"+key)
	if _, err := pipe.Exec(ctx); err != nil {
		if ctx.Err() != nil {
			return errors.Join(l1err, fmt.Errorf("rediscache: set %q: %w", key, ctx.Err()))
		}
		c.l2Failed(ctx, "set", err)
		return errors.Join(l1err, fmt.Errorf("%w: set %q: %w", ErrL2, key, err))
	}
	return l1err
}

// Delete removes key from L1 and Redis and evicts it from every instance's
// L1. In Redis the key becomes a tombstone for Options.Tombstone, so a load
// already running anywhere cannot write its older value back. A Redis
// failure is returned wrapping ErrL2 (ctx.Err() if ctx ended first); the
// local L1 is cleared regardless.
func (c *Cache[V]) Delete(ctx context.Context, key string) error {
	c.l1.Delete(ctx, key)
	return c.invalidateL2(ctx, key)
}

// invalidateL2 leaves a tombstone for key in Redis and evicts it from every
// other instance's L1.
func (c *Cache[V]) invalidateL2(ctx context.Context, key string) error {
	pipe := c.rdb.TxPipeline()
	pipe.Set(ctx, c.opts.Prefix+key, tombstone, c.opts.Tombstone)
	pipe.Publish(ctx, c.opts.Channel, c.id+"|"+key)
	if _, err := pipe.Exec(ctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("rediscache: delete %q: %w", key, ctx.Err())
		}
		c.l2Failed(ctx, "delete", err)
		return fmt.Errorf("%w: delete %q: %w", ErrL2, key, err)
	}
	return nil
}
