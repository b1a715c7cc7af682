package rediscache

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// subscribe applies other instances' invalidations to L1 until ctx ends.
// After any reconnect it clears L1: invalidations sent while the
// subscription was down are lost, so every local entry is suspect.
func (c *Cache[V]) subscribe(ctx context.Context) {
	defer c.wg.Done()
	if !c.resubscribe(ctx) { // if Redis is down, the loop below retries
		return
	}
	// Entries loaded between New and the first confirmation missed any
	// invalidation published meanwhile, so the first confirmation clears
	// L1 too (it holds little yet); later ones follow a gap.
	first := true
	resync := false // the next subscription confirmation follows a gap
	pinged := false // a ping is unanswered
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		msg, err := c.ps.ReceiveTimeout(ctx, c.opts.Heartbeat)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if !pinged {
					_ = c.ps.Ping(ctx)
					pinged = true
					continue
				}
				// Not even the pong came back: the connection is half-open.
				// go-redis only reconnects after an error, and writes into a
				// dead TCP connection may not fail for many minutes.
				c.log.Warn("rediscache: invalidation subscription silent, reconnecting", "heartbeat", c.opts.Heartbeat)
				if !c.resubscribe(ctx) {
					return
				}
				resync, pinged = true, false
				continue
			}
			pinged = false // go-redis reconnects on the next Receive
			if ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
				return
			}
			resync = true
			select { // the server is away; go-redis reconnects on the next Receive
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff, pinged = 50*time.Millisecond, false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if resync || first {
					c.l1.Clear()
				}
				if resync {
					c.m.resyncs.Add(ctx, 1, c.m.attrs)
				}
				if first {
					close(c.ready)
				}
				first, resync = false, true // any later confirmation is a resubscription
			}
		case *redis.Message:
			from, key, ok := strings.Cut(m.Payload, "|")
			if ok && from != c.id {
				c.l1.Delete(ctx, key)
				c.m.invalidations.Add(ctx, 1, c.m.attrs)
			}
		}
	}
}

// resubscribe (re)places the subscription with one on a new connection. It
// returns false once Close has begun.
func (c *Cache[V]) resubscribe(ctx context.Context) bool {
	ps := c.rdb.Subscribe(ctx, c.opts.Channel) // dials outside the lock: Close must not wait on it
	c.psMu.Lock()
	old := c.ps
	ok := ctx.Err() == nil
	if ok {
		c.ps = ps
	} else { // closing: Close closed c.ps, if any
		old = ps
	}
	c.psMu.Unlock()
	if old != nil {
		_ = old.Close()
	}
	return ok
}
