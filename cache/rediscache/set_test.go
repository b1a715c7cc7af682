package rediscache_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// Meta.TTL < 0 means "do not cache" (cache.Meta): in Redis as in L1, and on
// every instance.
func TestSetNegativeTTLCachesNowhere(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{})
	b := newInstance(t, srv.Client(t), srv.Prefix, rediscache.Options{})
	ready(t, a, b)
	ctx := t.Context()
	if err := a.Set(ctx, "k", user{1, "cached"}, cache.Meta{}); err != nil {
		t.Fatal(err)
	}
	src := &db{rows: map[string]user{}}
	if u, _ := b.Get(ctx, "k", src.load); u.Name != "cached" {
		t.Fatalf("b.Get = %v, want cached from L2", u)
	}
	if err := a.Set(ctx, "k", user{2, "uncacheable"}, cache.Meta{TTL: -1}); err != nil {
		t.Fatal(err)
	}
	raw, _ := rdb.Get(ctx, srv.Prefix+"k").Bytes()
	if string(raw) == `{"id":2,"name":"uncacheable"}` || string(raw) == `{"id":1,"name":"cached"}` {
		t.Fatalf("L2 holds %s after Set with TTL -1", raw)
	}
	eventually(t, "b's L1 eviction", func() bool { _, ok := b.L1().Peek("k"); return !ok })
	src.put("k", user{3, "db"})
	if u, _ := b.Get(ctx, "k", src.load); u.Name != "db" {
		t.Fatalf("b.Get after Set(TTL -1) = %v, want the loader's value", u)
	}
}

// failing cannot encode one value.
type failing struct{ rediscache.JSON }

func (f failing) Marshal(v any) ([]byte, error) {
	if u, ok := v.(user); ok && u.Name == "unencodable" {
		return nil, errors.New("cannot encode")
	}
	return f.JSON.Marshal(v)
}

// A Set whose value cannot be encoded changes nothing: otherwise this
// instance would serve a value no other instance ever sees.
func TestSetEncodeErrorChangesNothing(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{Codec: failing{}})
	ready(t, a)
	ctx := t.Context()
	if err := a.Set(ctx, "k", user{1, "old"}, cache.Meta{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, "k", user{2, "unencodable"}, cache.Meta{}); err == nil {
		t.Fatal("Set of an unencodable value succeeded")
	}
	if u, ok := a.L1().Peek("k"); !ok || u.Name != "old" {
		t.Fatalf("L1 holds %v, %v after a failed Set; want old, as in Redis", u, ok)
	}
}

// A key of another type under the prefix (WRONGTYPE) is that key's problem:
// it reads as a miss and must not switch L2 off for every other key.
func TestWrongTypeKeyDoesNotTakeL2Down(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	ctx := t.Context()
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{Backoff: time.Hour})
	if err := rdb.HSet(ctx, srv.Prefix+"odd", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, "j", user{2, "in L2"}, cache.Meta{}); err != nil {
		t.Fatal(err)
	}
	a.L1().Delete(ctx, "j")
	src := &db{rows: map[string]user{"odd": {1, "db"}, "j": {2, "db"}}}
	if u, err := a.Get(ctx, "odd", src.load); err != nil || u.Name != "db" {
		t.Fatalf("Get over a WRONGTYPE key = %v, %v; want the loader's value", u, err)
	}
	if u, err := a.Get(ctx, "j", src.load); err != nil || u.Name != "in L2" {
		t.Fatalf("Get(j) after a WRONGTYPE key = %v, %v; want L2's value (L2 is up)", u, err)
	}
}

// panicky is a codec that panics on some input, as hand-written decoders of
// corrupt data do.
type panicky struct{ rediscache.JSON }

func (p panicky) Marshal(v any) ([]byte, error) {
	if u, ok := v.(user); ok && u.Name == "boom" {
		panic("cannot encode boom")
	}
	return p.JSON.Marshal(v)
}

func (p panicky) Unmarshal(b []byte, v any) error {
	if string(b) == "corrupt" {
		panic("corrupt input")
	}
	return p.JSON.Unmarshal(b, v)
}

// A codec panic is an L2 problem: the read goes on without L2 and Get
// returns the loader's value, never an error.
func TestCodecPanicIsNotAGetError(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	a := newInstance(t, rdb, srv.Prefix, rediscache.Options{Codec: panicky{}})
	ctx := t.Context()
	if err := rdb.Set(ctx, srv.Prefix+"k", "corrupt", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	src := &db{rows: map[string]user{"k": {1, "k"}, "b": {2, "boom"}}}
	if u, err := a.Get(ctx, "k", src.load); err != nil || u.ID != 1 {
		t.Fatalf("Get over a value the decoder panics on = %v, %v; want the loader's value", u, err)
	}
	if u, err := a.Get(ctx, "b", src.load); err != nil || u.ID != 2 {
		t.Fatalf("Get of a value the encoder panics on = %v, %v; want the loader's value", u, err)
	}
}

// A caller's cancelled context is the caller's business: Set and Delete
// return it as such (errors.Is), and it must not switch L2 off for every
// other read as if Redis had failed.
func TestCancelledWriteIsNotAnL2Outage(t *testing.T) {
	srv := testenv.Redis(t)
	a := newInstance(t, srv.Client(t), srv.Prefix, rediscache.Options{Backoff: time.Hour})
	ctx := t.Context()
	if err := a.Set(ctx, "j", user{2, "in L2"}, cache.Meta{}); err != nil {
		t.Fatal(err)
	}
	a.L1().Delete(ctx, "j")
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Set(cancelled, "k", user{1, "k"}, cache.Meta{}); !errors.Is(err, context.Canceled) || errors.Is(err, rediscache.ErrL2) {
		t.Fatalf("Set with a cancelled ctx: err = %v; want context.Canceled, not ErrL2", err)
	}
	if err := a.Delete(cancelled, "k"); !errors.Is(err, context.Canceled) || errors.Is(err, rediscache.ErrL2) {
		t.Fatalf("Delete with a cancelled ctx: err = %v; want context.Canceled, not ErrL2", err)
	}
	src := &db{rows: map[string]user{"j": {2, "db"}}}
	if u, err := a.Get(ctx, "j", src.load); err != nil || u.Name != "in L2" {
		t.Fatalf("Get(j) after cancelled writes = %v, %v; want L2's value (L2 is up)", u, err)
	}
}

// ErrL2 keeps the Redis error it reports in the chain.
func TestErrL2WrapsTheCause(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}) // refused
	t.Cleanup(func() { rdb.Close() })
	a := newInstance(t, rdb, "t:", rediscache.Options{})
	var ne net.Error
	if err := a.Delete(t.Context(), "k"); !errors.Is(err, rediscache.ErrL2) || !errors.As(err, &ne) {
		t.Fatalf("Delete against a refused port: err = %v; want ErrL2 wrapping the net.Error", err)
	}
	if err := a.Set(t.Context(), "k", user{}, cache.Meta{}); !errors.Is(err, rediscache.ErrL2) || !errors.As(err, &ne) {
		t.Fatalf("Set against a refused port: err = %v; want ErrL2 wrapping the net.Error", err)
	}
}

// A value over MaxValueSize never reaches Redis. Set keeps it in the local
// L1, removes the older value from Redis and every L1, and says so; a
// loaded one is served but not written back.
func TestValuesOverMaxValueSizeStayLocal(t *testing.T) {
	srv := testenv.Redis(t)
	rdb := srv.Client(t)
	opts := rediscache.Options{MaxValueSize: 64}
	a := newInstance(t, rdb, srv.Prefix, opts)
	b := newInstance(t, srv.Client(t), srv.Prefix, opts)
	ready(t, a, b)
	ctx := t.Context()
	if err := a.Set(ctx, "k", user{1, "small"}, cache.Meta{}); err != nil {
		t.Fatal(err)
	}
	src := &db{rows: map[string]user{"k": {3, "db"}, "big": {4, string(make([]byte, 100))}}}
	if u, _ := b.Get(ctx, "k", src.load); u.Name != "small" {
		t.Fatalf("b.Get = %v, want small from L2", u)
	}
	huge := user{2, "a name long enough to encode to more than sixty-four bytes of JSON"}
	err := a.Set(ctx, "k", huge, cache.Meta{})
	if !errors.Is(err, cache.ErrTooLarge) || errors.Is(err, rediscache.ErrL2) {
		t.Fatalf("Set of a huge value: err = %v, want ErrTooLarge and no ErrL2", err)
	}
	if u, ok := a.L1().Peek("k"); !ok || u != huge {
		t.Fatalf("a's L1 = %v, %v; want the huge value kept locally", u, ok)
	}
	if raw, _ := rdb.Get(ctx, srv.Prefix+"k").Bytes(); string(raw) == `{"id":1,"name":"small"}` || len(raw) > 64 {
		t.Fatalf("L2 holds %q after the huge Set", raw)
	}
	eventually(t, "b's L1 eviction", func() bool { _, ok := b.L1().Peek("k"); return !ok })
	if u, _ := b.Get(ctx, "k", src.load); u.Name != "db" {
		t.Fatalf("b.Get after the huge Set = %v, want the loader's value, not the old small one", u)
	}

	if u, err := a.Get(ctx, "big", src.load); err != nil || u.ID != 4 {
		t.Fatalf("a.Get(big) = %v, %v", u, err)
	}
	if n, _ := rdb.Exists(ctx, srv.Prefix+"big").Result(); n != 0 {
		t.Fatal("a loaded value over MaxValueSize was written back to Redis")
	}
	if _, err := b.Get(ctx, "k", src.load); err != nil {
		t.Fatal(err) // L2 was never marked down by any of this
	}
}
