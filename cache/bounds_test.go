package cache_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/cachetest"
)

// Stores sized by cost alone use a huge count bound; that must neither panic
// nor allocate for the bound up front.
func TestStoresAcceptHugeSize(t *testing.T) {
	for name, newStore := range stores {
		if name == "Sharded" { // splits MaxCost over its shards: tested below
			continue
		}
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s, err := newStore(math.MaxInt, cache.StoreOptions{MaxCost: 10})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("size MaxInt: %v", err)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Fatalf("an empty store of size MaxInt allocated %d bytes", grew)
			}
			for _, k := range []string{"a", "b", "c"} {
				if _, err := s.Set(k, &cache.Entry[int]{Cost: 4}); err != nil {
					t.Fatal(err)
				}
				if _, ok := s.Get(k); !ok {
					t.Fatalf("%s missing right after Set", k)
				}
			}
			if s.Len() != 2 {
				t.Fatalf("Len = %d, want 2 (cost 4 each, MaxCost 10)", s.Len())
			}
		})
	}
}

// Costs near MaxInt64 must not overflow the running total (which would let
// the store hold far more than MaxCost).
func TestStoresCostDoesNotOverflow(t *testing.T) {
	for name, newStore := range stores {
		if name == "Sharded" { // an entry must fit one shard's share of MaxCost
			continue
		}
		t.Run(name, func(t *testing.T) {
			s, err := newStore(10, cache.StoreOptions{MaxCost: math.MaxInt64})
			if err != nil {
				t.Fatal(err)
			}
			big := int64(math.MaxInt64/2 + 1)
			for _, k := range []string{"a", "b", "c", "a", "b"} {
				if _, err := s.Set(k, &cache.Entry[int]{Cost: big}); err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != 1 {
				t.Fatalf("Len = %d, want 1 (two entries of cost %d exceed MaxInt64)", s.Len(), big)
			}
			if _, ok := s.Get("b"); !ok {
				t.Fatal("the last entry set is missing")
			}
		})
	}
}

// A TTL near the maximum Duration means "practically forever", not "already
// expired" through an int64 overflow, with or without jitter.
func TestHugeTTLDoesNotOverflow(t *testing.T) {
	for _, o := range []cache.Options{
		{TTL: math.MaxInt64},
		{TTL: 1 << 62, Jitter: 1, Rand: func() uint64 { return math.MaxUint64 }},
		{TTL: time.Second, StaleWhileRevalidate: math.MaxInt64, StaleIfError: math.MaxInt64},
		{RefreshAfter: math.MaxInt64},
	} {
		a := newAside(t, o)
		src := &source{}
		for range 3 {
			if v, err := a.Get(t.Context(), "k", src.load); err != nil || v != 1 {
				t.Fatalf("%+v: Get = %d, %v; want the first load's 1", o, v, err)
			}
		}
	}
}

// A batch loader cannot say "not found" for the whole batch: that is an
// error, not an empty result.
func TestGetManyBatchNotFoundIsAnError(t *testing.T) {
	a := newAside(t, cache.Options{NegativeTTL: time.Minute})
	got, err := a.GetMany(t.Context(), []string{"a", "b"}, func(ctx context.Context, keys []string) (map[string]int, error) {
		return nil, cache.ErrNotFound
	})
	if err == nil || errors.Is(err, cache.ErrNotFound) {
		t.Fatalf("GetMany = %v, %v; want an error that is not ErrNotFound", got, err)
	}
	src := &source{}
	if v, err := a.Get(context.Background(), "a", src.load); err != nil || v != 1 {
		t.Fatalf("after the failed batch Get(a) = %d, %v; want a load (nothing negatively cached)", v, err)
	}
}

// An injected clock may run before the cache's creation (a test setting its
// fake clock back): an entry whose expiry lands exactly on the cache's
// origin must still expire, not read as "never".
func TestExpiryAtTheOriginStillExpires(t *testing.T) {
	clock := cachetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := newAside(t, cache.Options{TTL: time.Minute, RefreshAfter: 30 * time.Second, Now: clock.Now})
	clock.Advance(-time.Minute)
	src := &source{}
	a.Get(t.Context(), "k", src.load) // expires at the origin
	clock.Advance(2 * time.Minute)
	if v, _ := a.Get(t.Context(), "k", src.load); v != 2 {
		t.Fatalf("two minutes after a one-minute TTL: %d, want a reload (2)", v)
	}
}
