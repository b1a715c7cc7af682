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
	resync := false // the next subscription confirmation follows a gap
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		msg, err := c.ps.ReceiveTimeout(ctx, 5*time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				_ = c.ps.Ping(ctx) // detect a half-open connection
				continue
			}
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
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				if resync {
					c.l1.Clear()
					c.m.resyncs.Add(ctx, 1, c.m.attrs)
				}
				resync = true // any later confirmation is a resubscription
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
