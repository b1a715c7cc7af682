package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

func TestTTL(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: 10 * time.Second, ExactClock: true})
		src := &source{}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(10*time.Second - time.Nanosecond)
		if v, _ := a.Get(t.Context(), "k", src.load); v != 1 {
			t.Fatalf("Get just before expiry = %d, want the cached 1", v)
		}
		time.Sleep(time.Nanosecond)
		if v, _ := a.Get(t.Context(), "k", src.load); v != 2 {
			t.Fatalf("Get at expiry = %d, want a reload (2)", v)
		}
	})
}

func TestPerEntryTTL(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: time.Hour})
		var calls int
		load := func(ctx context.Context, key string) (int, cache.Meta, error) {
			calls++
			return calls, cache.Meta{TTL: time.Second}, nil
		}
		a.Fetch(t.Context(), "k", load)
		time.Sleep(time.Second)
		if v, _ := a.Fetch(t.Context(), "k", load); v != 2 {
			t.Fatalf("after the loader's 1s TTL: %d, want 2", v)
		}
		noCache := func(ctx context.Context, key string) (int, cache.Meta, error) { return 5, cache.Meta{TTL: -1}, nil }
		a.Fetch(t.Context(), "n", noCache)
		if _, ok := a.Peek("n"); ok {
			t.Fatal("Meta.TTL < 0 was cached")
		}
		a.Set(t.Context(), "s", 7, cache.Meta{TTL: 3 * time.Second})
		time.Sleep(3 * time.Second)
		if _, ok := a.Peek("s"); ok {
			t.Fatal("Set with Meta.TTL 3s still fresh after 3s")
		}
	})
}

func TestJitterSpreadsExpiry(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		store, _ := cache.NewLRU[string, int](2000, cache.StoreOptions{})
		a, err := cache.New[string, int](store, cache.Options{TTL: 100 * time.Second, Jitter: 0.1, Rand: r.Uint64})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		const n = 1000
		for i := range n {
			a.Set(t.Context(), fmt.Sprint(i), i, cache.Meta{})
		}
		alive := func() int {
			c := 0
			for i := range n {
				if _, ok := a.Peek(fmt.Sprint(i)); ok {
					c++
				}
			}
			return c
		}
		var counts []int
		for _, at := range []time.Duration{90 * time.Second, 95 * time.Second, 100 * time.Second, 105 * time.Second, 110 * time.Second} {
			time.Sleep(at - time.Since(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)))
			counts = append(counts, alive())
		}
		// Expiry is uniform over [90s, 110s): all alive at 90s, none at 110s,
		// about 3/4, 1/2, 1/4 in between.
		if counts[0] != n || counts[4] != 0 {
			t.Fatalf("alive at 90s, 110s = %d, %d; want %d, 0", counts[0], counts[4], n)
		}
		for i, want := range []int{750, 500, 250} {
			if got := counts[i+1]; got < want-80 || got > want+80 {
				t.Errorf("alive at %ds = %d, want about %d (counts %v)", 95+5*i, got, want, counts)
			}
		}
	})
}

func TestXFetchRefreshesEarlyWithoutBlocking(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		var rnd uint64 = ^uint64(0) // u ≈ 1: −ln(u) ≈ 0, never early
		a := newAside(t, cache.Options{TTL: 10 * time.Second, EarlyRefreshBeta: 1, Rand: func() uint64 { return rnd }})
		gate := make(chan struct{}, 10)
		var calls int
		load := func(ctx context.Context, key string) (int, error) {
			calls++
			time.Sleep(time.Second) // δ = 1s
			<-gate
			return calls, nil
		}
		gate <- struct{}{}
		a.Get(t.Context(), "k", load) // loaded at t=1s, expires at t=11s
		time.Sleep(5 * time.Second)   // gap 5s: due only if −ln(u) ≥ 5
		if v, _ := a.Get(t.Context(), "k", load); v != 1 || calls != 1 {
			t.Fatalf("u≈1: v=%d loads=%d; want 1, 1", v, calls)
		}
		rnd = 0 // u = 2⁻⁵³: −ln(u) ≈ 36.7 ≥ 5: due
		if v, _ := a.Get(t.Context(), "k", load); v != 1 {
			t.Fatalf("early refresh blocked the caller or changed its value: %d", v)
		}
		synctest.Wait()
		if calls != 2 {
			t.Fatalf("loads = %d, want a background refresh (2)", calls)
		}
		gate <- struct{}{}
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		rnd = ^uint64(0)
		if v, _ := a.Get(t.Context(), "k", load); v != 2 {
			t.Fatalf("after the early refresh: %d, want 2", v)
		}
	})
}

func TestRefreshAheadServesOldValue(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: 10 * time.Second, RefreshAfter: 5 * time.Second})
		src := &source{}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(4 * time.Second)
		a.Get(t.Context(), "k", src.load)
		synctest.Wait()
		if src.calls.Load() != 1 {
			t.Fatalf("refresh before RefreshAfter: loads = %d", src.calls.Load())
		}
		time.Sleep(time.Second)
		if v, _ := a.Get(t.Context(), "k", src.load); v != 1 {
			t.Fatalf("refresh-ahead hit = %d, want the current value 1", v)
		}
		synctest.Wait()
		if v, _ := a.Get(t.Context(), "k", src.load); v != 2 || src.calls.Load() != 2 {
			t.Fatalf("after refresh: v=%d loads=%d; want 2, 2", v, src.calls.Load())
		}
	})
}

func TestStaleWhileRevalidate(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: 10 * time.Second, StaleWhileRevalidate: 5 * time.Second})
		src := &source{gate: make(chan struct{}, 10)}
		src.gate <- struct{}{}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(12 * time.Second)
		if v, err := a.Get(t.Context(), "k", src.load); v != 1 || err != nil {
			t.Fatalf("within SWR: %d, %v; want stale 1 without waiting", v, err)
		}
		v, _ := a.Get(t.Context(), "k", src.load)
		synctest.Wait()
		if v != 1 || src.calls.Load() != 2 {
			t.Fatalf("second stale hit: v=%d loads=%d; want 1 and a single revalidation", v, src.calls.Load())
		}
		src.gate <- struct{}{}
		synctest.Wait()
		if v, _ := a.Get(t.Context(), "k", src.load); v != 2 {
			t.Fatalf("after revalidation: %d, want 2", v)
		}
		time.Sleep(16 * time.Second) // beyond expiry + SWR: a blocking load
		src.gate <- struct{}{}
		if v, _ := a.Get(t.Context(), "k", src.load); v != 3 {
			t.Fatalf("beyond SWR: %d, want a fresh load 3", v)
		}
	})
}

func TestStaleIfError(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		errDB := errors.New("db down")
		a := newAside(t, cache.Options{TTL: 10 * time.Second, StaleIfError: 5 * time.Second})
		src := &source{val: func(_ string, n int64) (int, error) {
			if n > 1 {
				return 0, errDB
			}
			return 1, nil
		}}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(12 * time.Second)
		if v, err := a.Get(t.Context(), "k", src.load); v != 1 || err != nil {
			t.Fatalf("within SIE with a failing loader: %d, %v; want stale 1", v, err)
		}
		time.Sleep(4 * time.Second) // t = 16s > expiry + 5s
		if _, err := a.Get(t.Context(), "k", src.load); !errors.Is(err, errDB) {
			t.Fatalf("beyond SIE: err = %v, want db down", err)
		}
	})
}

func TestCoarseClock(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: 10500 * time.Millisecond, ClockResolution: time.Second})
		src := &source{}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(10700 * time.Millisecond) // the coarse clock reads 10s: not yet expired
		synctest.Wait()
		if v, _ := a.Get(t.Context(), "k", src.load); v != 1 {
			t.Fatalf("at 10.7s with a 1s clock: %d, want the cached 1", v)
		}
		time.Sleep(300 * time.Millisecond) // the tick at 11s passes the expiry
		synctest.Wait()                    // let the ticker goroutine store it
		if v, _ := a.Get(t.Context(), "k", src.load); v != 2 {
			t.Fatalf("at 11s: %d, want a reload (2)", v)
		}
		time.Sleep(200 * time.Millisecond) // unread: the ticker parks (after a 16-tick window at most)
		synctest.Wait()
		time.Sleep(20 * time.Second) // no timer runs while parked; expiry is exact again
		if _, ok := a.Peek("k"); ok {
			t.Fatal("a parked clock kept an expired entry alive")
		}
		a.Get(t.Context(), "k", src.load) // reload at 31.2s, and the clock restarts
		a.Close()                         // stops the ticker; hits read the exact clock again
		time.Sleep(10600 * time.Millisecond)
		if _, ok := a.Peek("k"); ok {
			t.Fatal("after Close a frozen coarse clock kept an expired entry alive")
		}
	})
}

// With stale-while-revalidate, a hot key's expiry makes nobody wait: every
// caller gets the old value at once while a single reload runs.
func TestHotKeyExpiryNobodyWaits(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: 10 * time.Second, StaleWhileRevalidate: time.Minute})
		src := &source{gate: make(chan struct{}, 1)}
		src.gate <- struct{}{}
		a.Get(t.Context(), "hot", src.load)
		time.Sleep(10 * time.Second) // expired
		var done atomic.Int64
		for range 1000 {
			go func() {
				if v, err := a.Get(t.Context(), "hot", src.load); v == 1 && err == nil {
					done.Add(1)
				}
			}()
		}
		synctest.Wait() // only the gated reload is still blocked
		if done.Load() != 1000 {
			t.Fatalf("%d of 1000 callers got the stale value without waiting", done.Load())
		}
		if src.calls.Load() != 2 {
			t.Fatalf("loads = %d, want 2 (one reload for 1000 callers)", src.calls.Load())
		}
		src.gate <- struct{}{}
		synctest.Wait()
		if v, _ := a.Get(t.Context(), "hot", src.load); v != 2 {
			t.Fatalf("after the reload: %d, want 2", v)
		}
	})
}

func TestFailedRefreshAheadHoldsOff(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		errDB := errors.New("db down")
		a := newAside(t, cache.Options{TTL: time.Minute, RefreshAfter: 10 * time.Second})
		src := &source{val: func(_ string, n int64) (int, error) {
			if n > 1 {
				return 0, errDB
			}
			return 1, nil
		}}
		a.Get(t.Context(), "k", src.load)
		time.Sleep(10 * time.Second)
		for range 50 { // refresh due; the reload fails
			if v, err := a.Get(t.Context(), "k", src.load); v != 1 || err != nil {
				t.Fatalf("hit during failing refresh = %d, %v", v, err)
			}
			synctest.Wait()
		}
		if n := src.calls.Load(); n != 2 {
			t.Fatalf("loads = %d, want 2: a failed refresh must not re-run on every hit", n)
		}
		time.Sleep(time.Second)
		a.Get(t.Context(), "k", src.load)
		synctest.Wait()
		if n := src.calls.Load(); n != 3 {
			t.Fatalf("loads = %d after the hold-off, want a retry (3)", n)
		}
	})
}

func TestFailedRevalidationHoldsOff(t *testing.T) {
	errDB := errors.New("db down")
	failing := func(_ string, n int64) (int, error) {
		if n > 1 {
			return 0, errDB
		}
		return 1, nil
	}
	for _, tc := range []struct {
		name string
		opts cache.Options
	}{
		{"StaleWhileRevalidate", cache.Options{TTL: 10 * time.Second, StaleWhileRevalidate: time.Minute}},
		{"StaleIfError", cache.Options{TTL: 10 * time.Second, StaleIfError: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				a := newAside(t, tc.opts)
				src := &source{val: failing}
				a.Get(t.Context(), "k", src.load)
				time.Sleep(11 * time.Second)
				for range 50 {
					if v, err := a.Get(t.Context(), "k", src.load); v != 1 || err != nil {
						t.Fatalf("stale hit = %d, %v; want 1", v, err)
					}
					synctest.Wait()
				}
				if n := src.calls.Load(); n != 2 {
					t.Fatalf("loads = %d, want 2: one failed reload, then a hold-off", n)
				}
				time.Sleep(time.Second)
				a.Get(t.Context(), "k", src.load)
				synctest.Wait()
				if n := src.calls.Load(); n != 3 {
					t.Fatalf("loads = %d after the hold-off, want a retry (3)", n)
				}
			})
		})
	}
}
