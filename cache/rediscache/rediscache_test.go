package rediscache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/redis/go-redis/v9"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// counter sums an int64 counter across its data points.
func counter(t *testing.T, r *sdkmetric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if s, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == name {
				for _, p := range s.DataPoints {
					n += p.Value
				}
			}
		}
	}
	return n
}

type user struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// db is the source of truth the loaders read, counting reads.
type db struct {
	mu    sync.Mutex
	rows  map[string]user
	reads atomic.Int64
}

func (d *db) load(ctx context.Context, key string) (user, error) {
	d.reads.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.rows[key]
	if !ok {
		return user{}, cache.ErrNotFound
	}
	return u, nil
}

func (d *db) put(key string, u user) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rows[key] = u
}

func newInstance(t *testing.T, rdb redis.UniversalClient, prefix string, opts rediscache.Options) *rediscache.Cache[user] {
	t.Helper()
	opts.Prefix = prefix
	if opts.L1.TTL == 0 {
		opts.L1.TTL = time.Hour
	}
	opts.L1.Logger = slog.New(slog.DiscardHandler)
	c, err := rediscache.New[user](rdb, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// eventually polls cond for up to 10 s: pub/sub delivery is asynchronous.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s did not happen within 10s", what)
}

// ready waits until each instance hears invalidations (and has cleared
// what its L1 took in before).
func ready(t *testing.T, cs ...*rediscache.Cache[user]) {
	t.Helper()
	for _, c := range cs {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		err := c.Ready(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Ready: %v", err)
		}
	}
}

func TestTwoInstancesShareL2AndInvalidate(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	src := &db{rows: map[string]user{"u1": {1, "ann"}}}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{})
	b := newInstance(t, srv.Client(t), srv.Prefix, rediscache.Options{L1: cache.Options{MeterProvider: mp}})
	ready(t, a, b)
	ctx := t.Context()

	if u, err := a.Get(ctx, "u1", src.load); err != nil || u.Name != "ann" {
		t.Fatalf("a.Get = %v, %v", u, err)
	}
	if u, err := b.Get(ctx, "u1", src.load); err != nil || u.Name != "ann" {
		t.Fatalf("b.Get = %v, %v", u, err)
	}
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("db reads = %d, want 1: b must be answered by the shared L2", n)
	}
	if _, ok := b.L1().Peek("u1"); !ok {
		t.Fatal("b did not keep u1 in its L1")
	}
	if got := counter(t, reader, "ladder.cache.l2.hits"); got != 1 {
		t.Fatalf("b's ladder.cache.l2.hits = %d, want 1", got)
	}

	src.put("u1", user{1, "anne"})
	if err := a.Delete(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "b's L1 eviction after a.Delete", func() bool { _, ok := b.L1().Peek("u1"); return !ok })
	if got := counter(t, reader, "ladder.cache.invalidations"); got != 1 {
		t.Fatalf("b's ladder.cache.invalidations = %d, want 1", got)
	}
	if u, _ := b.Get(ctx, "u1", src.load); u.Name != "anne" {
		t.Fatalf("b after invalidation = %v, want anne", u)
	}

	// Set on b reaches a's L1 too, and a reads the new value from L2.
	if _, err := a.Get(ctx, "u1", src.load); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, "u1", user{1, "annie"}, cache.Meta{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a's L1 eviction after b.Set", func() bool { v, ok := a.L1().Peek("u1"); return !ok || v.Name == "annie" })
	reads := src.reads.Load()
	if u, _ := a.Get(ctx, "u1", src.load); u.Name != "annie" || src.reads.Load() != reads {
		t.Fatalf("a after b.Set = %v (db reads %d→%d), want annie from L2", u, reads, src.reads.Load())
	}
	if _, ok := b.L1().Peek("u1"); !ok {
		t.Fatal("b's own Set evicted its own L1 entry")
	}
}

func TestDeleteDuringLoadKeepsOldValueOutOfL2(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{})
	b := newInstance(t, srv.Client(t), srv.Prefix, rediscache.Options{})
	ctx := t.Context()
	started, release := make(chan struct{}), make(chan struct{})
	slow := func(ctx context.Context, key string) (user, error) {
		close(started)
		<-release
		return user{1, "old"}, nil
	}
	done := make(chan user)
	go func() { u, _ := a.Get(ctx, "k", slow); done <- u }()
	<-started
	if err := b.Delete(ctx, "k"); err != nil { // the row changed while a was reading it
		t.Fatal(err)
	}
	close(release)
	if u := <-done; u.Name != "old" {
		t.Fatalf("a's caller got %v", u)
	}
	raw, err := rdb.Get(ctx, srv.Prefix+"k").Bytes()
	if err != nil || string(raw) == `{"id":1,"name":"old"}` {
		t.Fatalf("L2 holds %q, %v: the pre-Delete load wrote its value back", raw, err)
	}
	fresh := &db{rows: map[string]user{"k": {1, "new"}}}
	if u, _ := b.Get(ctx, "k", fresh.load); u.Name != "new" {
		t.Fatalf("b.Get after Delete = %v, want new", u)
	}
}

func TestL2OutageDegradesToL1AndLoader(t *testing.T) {
	proc := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: proc.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	src := &db{rows: map[string]user{"a": {1, "a"}, "b": {2, "b"}, "c": {3, "c"}}}
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { mp.Shutdown(context.Background()) })
	c := newInstance(t, rdb, "t:", rediscache.Options{Backoff: time.Hour, L1: cache.Options{MeterProvider: mp}})
	ctx := t.Context()
	if _, err := c.Get(ctx, "a", src.load); err != nil {
		t.Fatal(err)
	}

	proc.Stop()
	if u, err := c.Get(ctx, "a", src.load); err != nil || u.Name != "a" {
		t.Fatalf("L1 hit during outage = %v, %v", u, err)
	}
	for _, k := range []string{"b", "c"} {
		if u, err := c.Get(ctx, k, src.load); err != nil || u.ID == 0 {
			t.Fatalf("miss during outage = %v, %v; want the loader's value, no error", u, err)
		}
	}
	if err := c.Delete(ctx, "b"); !errors.Is(err, rediscache.ErrL2) {
		t.Fatalf("Delete during outage: err = %v, want ErrL2", err)
	}
	if _, ok := c.L1().Peek("b"); ok {
		t.Fatal("Delete during outage left the local entry")
	}
	// The first failed read opened the back-off: the second miss and the fill
	// did not touch Redis (only the read and the Delete failed there).
	if got := counter(t, reader, "ladder.cache.l2.errors"); got != 2 {
		t.Fatalf("ladder.cache.l2.errors = %d, want 2 (a read, then the Delete; the rest skipped)", got)
	}
}

func TestL2RecoversAfterRestart(t *testing.T) {
	proc := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: proc.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { rdb.Close() })
	c := newInstance(t, rdb, "t:", rediscache.Options{Backoff: 20 * time.Millisecond})
	ctx := t.Context()
	proc.Stop()
	if _, err := c.Get(ctx, "y", func(context.Context, string) (user, error) { return user{8, "y"}, nil }); err != nil {
		t.Fatal(err)
	}
	proc.Start() // empty: a crashed cache server keeps nothing
	eventually(t, "L2 recovery", func() bool {
		c.L1().Delete(ctx, "z")
		c.Get(ctx, "z", func(context.Context, string) (user, error) { return user{9, "z"}, nil })
		n, _ := rdb.Exists(ctx, "t:z").Result()
		return n == 1
	})
}

// Every bad configuration, the L1's included, is an ErrInvalidOptions of
// this package whose message starts "rediscache: invalid options: " and
// names the field, without repeating a package prefix.
func TestBadOptions(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	once := regexp.MustCompile(`\b(redis)?cache: `)
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, rediscache.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", what, err)
			return
		}
		msg := err.Error()
		if !strings.HasPrefix(msg, "rediscache: invalid options: ") || len(once.FindAllString(msg, -1)) != 1 {
			t.Errorf("%s: %q: want \"rediscache: invalid options: \" first and no other package prefix", what, msg)
		}
	}
	for _, o := range []rediscache.Options{
		{TTL: -1}, {Timeout: -1}, {Backoff: -1}, {Tombstone: -1}, {Heartbeat: -1}, {MaxValueSize: -1},
		{Timeout: time.Second, L1: cache.Options{LoadTimeout: time.Second}},
		{Tombstone: time.Second, L1: cache.Options{LoadTimeout: 2 * time.Second}},
		{Tombstone: 5 * time.Second}, // below the default LoadTimeout of 10 s
	} {
		_, err := rediscache.New[int](rdb, nil, o)
		check(fmt.Sprintf("New(%+v)", o), err)
	}
	_, err := rediscache.New[int](nil, nil, rediscache.Options{})
	check("nil client", err)
	for _, l1 := range []cache.Options{
		{TTL: -1}, {LoadTimeout: -1}, {Jitter: 2}, {ClockResolution: time.Microsecond}, {NegativeTTL: -1},
	} {
		_, err := rediscache.New[int](rdb, nil, rediscache.Options{L1: l1})
		check(fmt.Sprintf("L1 %+v", l1), err)
		if !errors.Is(err, cache.ErrInvalidOptions) {
			t.Errorf("L1 %+v: err = %v, want cache.ErrInvalidOptions too", l1, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "rediscache: invalid options: L1.") {
			t.Errorf("L1 %+v: %q: want the field named L1.<field>", l1, err)
		}
	}
}

func TestResubscribeClearsL1(t *testing.T) {
	srv := testenv.Redis(t)
	direct := srv.Client(t)
	proxy := testenv.Proxy(t, srv.Addr)
	viaProxy := redis.NewClient(&redis.Options{Addr: proxy.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { viaProxy.Close() })
	a := newInstance(t, viaProxy, srv.Prefix, rediscache.Options{Backoff: 10 * time.Millisecond})
	b := newInstance(t, direct, srv.Prefix, rediscache.Options{})
	ready(t, a, b)
	ctx := t.Context()
	src := &db{rows: map[string]user{"k": {1, "v1"}}}
	a.Get(ctx, "k", src.load)

	proxy.Break() // a is partitioned from Redis and misses the invalidation
	if err := b.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if u, err := a.Get(ctx, "k", src.load); err != nil || u.Name != "v1" {
		t.Fatalf("a during the partition = %v, %v; want its L1 value", u, err)
	}
	proxy.Restore()
	eventually(t, "a's L1 resync after resubscribing", func() bool { _, ok := a.L1().Peek("k"); return !ok })
}

func TestUndecodableL2ValueIsAMiss(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	c := newInstance(t, rdb, srv.Prefix, rediscache.Options{})
	ctx := t.Context()
	if err := rdb.Set(ctx, srv.Prefix+"k", "{not json", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	src := &db{rows: map[string]user{"k": {7, "seven"}}}
	if u, err := c.Get(ctx, "k", src.load); err != nil || u.ID != 7 {
		t.Fatalf("Get over a corrupt L2 value = %v, %v; want the loader's value", u, err)
	}
}

func TestL1HitAllocatesNothing(t *testing.T) {
	srv := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	c := newInstance(t, rdb, "t:", rediscache.Options{})
	load := (&db{rows: map[string]user{"k": {1, "k"}}}).load
	if _, err := c.Get(t.Context(), "k", load); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { c.Get(t.Context(), "k", load) }); n != 0 {
		t.Fatalf("an L1 hit allocates %v times", n)
	}
}

// An instance whose subscription is not yet confirmed cannot hear
// invalidations; whatever it put in L1 meanwhile must be dropped once the
// subscription is up, or a Delete published in that window is lost for good.
func TestInvalidationBeforeFirstSubscriptionIsNotLost(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	src := &db{rows: map[string]user{"u1": {1, "ann"}}}
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{})
	ready(t, a)

	// b's connections wait for gate: its subscription cannot start, and its
	// reads of L2 time out (so it loads from src).
	gate := make(chan struct{})
	var d net.Dialer
	bc := redis.NewClient(&redis.Options{Addr: srv.Addr, ContextTimeoutEnabled: true, MaxRetries: -1,
		Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return d.DialContext(ctx, network, addr)
		}})
	t.Cleanup(func() { bc.Close() })
	b := newInstance(t, bc, srv.Prefix, rediscache.Options{Timeout: 50 * time.Millisecond, Backoff: time.Millisecond})
	ctx := t.Context()
	if u, err := b.Get(ctx, "u1", src.load); err != nil || u.Name != "ann" {
		t.Fatalf("b.Get = %v, %v", u, err)
	}
	src.put("u1", user{1, "anne"})
	if err := a.Delete(ctx, "u1"); err != nil { // b cannot hear this
		t.Fatal(err)
	}
	close(gate)
	ready(t, a, b)
	eventually(t, "b's L1 dropping what it loaded before subscribing", func() bool { _, ok := b.L1().Peek("u1"); return !ok })
	if u, err := b.Get(ctx, "u1", src.load); err != nil || u.Name != "anne" {
		t.Fatalf("b.Get after the invalidation = %v, %v; want anne", u, err)
	}
}

// Ready waits for the subscription: it times out while Redis is away and
// reports ErrClosed after Close.
func TestReadyWithoutRedis(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	defer rdb.Close()
	c := newInstance(t, rdb, "ready:", rediscache.Options{})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := c.Ready(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ready with Redis away = %v, want DeadlineExceeded", err)
	}
	c.Close()
	if err := c.Ready(t.Context()); !errors.Is(err, rediscache.ErrClosed) {
		t.Fatalf("Ready after Close = %v, want ErrClosed", err)
	}
}

// Once closed, an instance hears nothing more: Ready says so every time,
// even though its subscription was confirmed before Close.
func TestReadyAfterCloseOfAReadyInstance(t *testing.T) {
	srv := testenv.Redis(t)
	c := newInstance(t, srv.Client(t), srv.Prefix, rediscache.Options{})
	ready(t, c)
	c.Close()
	for range 100 {
		if err := c.Ready(t.Context()); !errors.Is(err, rediscache.ErrClosed) {
			t.Fatalf("Ready after Close = %v, want ErrClosed", err)
		}
	}
}
