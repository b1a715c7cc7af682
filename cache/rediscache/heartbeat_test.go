package rediscache_test

import (
	"context"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// severingProxy forwards to target until Sever, which drops the server side
// of every open connection and silently swallows what clients send on them:
// a half-open connection, as a NAT or load balancer that forgot it leaves
// it. New connections are forwarded again.
type severingProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn // client sides, closed at cleanup
	ups   []net.Conn // server sides of the live connections
	wg    sync.WaitGroup
}

func newSeveringProxy(t *testing.T, target string) *severingProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &severingProxy{ln: ln}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns, p.ups = append(p.conns, c), append(p.ups, u)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(u, c); io.Copy(io.Discard, c) })
			p.wg.Go(func() { io.Copy(c, u) }) // the client side stays open
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range append(p.conns, p.ups...) {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *severingProxy) Sever() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.ups {
		u.Close()
	}
	p.ups = nil
}

// A half-open subscription (the server dropped it, the client cannot tell)
// loses every invalidation; the heartbeat must notice and resubscribe, which
// clears L1, instead of pinging into the void until the L1 TTL.
func TestHalfOpenSubscriptionIsReplaced(t *testing.T) {
	srv := testenv.Redis(t)
	direct := srv.Client(t)
	proxy := newSeveringProxy(t, srv.Addr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.ln.Addr().String(), MaxRetries: -1})
	t.Cleanup(func() { viaProxy.Close() })
	a := newInstance(t, viaProxy, srv.Prefix, rediscache.Options{Heartbeat: 20 * time.Millisecond})
	b := newInstance(t, direct, srv.Prefix, rediscache.Options{})
	ready(t, a, b)
	ctx := t.Context()
	src := &db{rows: map[string]user{"k": {1, "v1"}}}
	if _, err := a.Get(ctx, "k", src.load); err != nil {
		t.Fatal(err)
	}

	proxy.Sever()
	if err := b.Delete(ctx, "k"); err != nil { // a cannot hear it
		t.Fatal(err)
	}
	eventually(t, "a's L1 resync after its half-open subscription was replaced", func() bool {
		_, ok := a.L1().Peek("k")
		return !ok
	})
}

// hangingServer accepts connections and never answers: a Redis that stalls.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// A stalled Redis must not use up the load's time budget: with a short
// L1.LoadTimeout (below the 250 ms default Timeout) the read still reaches
// the loader in time, on the first miss as on later ones.
func TestStalledRedisLeavesTheLoaderTime(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: hangingServer(t), MaxRetries: -1, ContextTimeoutEnabled: true, DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	c := newInstance(t, rdb, "t:", rediscache.Options{L1: cache.Options{LoadTimeout: 200 * time.Millisecond}})
	load := func(ctx context.Context, key string) (user, error) {
		if err := ctx.Err(); err != nil {
			return user{}, err
		}
		return user{1, key}, nil
	}
	for _, k := range []string{"a", "b"} {
		if u, err := c.Get(t.Context(), k, load); err != nil || u.Name != k {
			t.Fatalf("Get(%s) with Redis stalled = %v, %v; want the loader's value", k, u, err)
		}
	}
}
