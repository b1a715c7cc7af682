package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// source is a loader that counts calls and, when gated, blocks until released.
type source struct {
	calls atomic.Int64
	gate  chan struct{}
	val   func(key string, call int64) (int, error)
}

func (s *source) load(ctx context.Context, key string) (int, error) {
	n := s.calls.Add(1)
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if s.val != nil {
		return s.val(key, n)
	}
	return int(n), nil
}

func newAside(t *testing.T, opts cache.Options) *cache.Aside[string, int] {
	t.Helper()
	store, err := cache.NewLRU[string, int](100, cache.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := cache.New[string, int](store, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestStampedeOneLoad(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: time.Minute})
		src := &source{gate: make(chan struct{})}
		const n = 1000
		var wg sync.WaitGroup
		results := make([]int, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { results[i], errs[i] = a.Get(t.Context(), "hot", src.load) })
		}
		synctest.Wait() // barrier: every caller is blocked on the one load
		if got := src.calls.Load(); got != 1 {
			t.Fatalf("%d loads started for %d concurrent misses, want 1", got, n)
		}
		close(src.gate)
		wg.Wait()
		for i := range n {
			if errs[i] != nil || results[i] != 1 {
				t.Fatalf("caller %d got %d, %v; want 1, nil", i, results[i], errs[i])
			}
		}
		if v, _ := a.Get(t.Context(), "hot", src.load); v != 1 || src.calls.Load() != 1 {
			t.Fatalf("after the stampede: value %d, loads %d; want 1, 1", v, src.calls.Load())
		}
	})
}

func TestFirstCallerCancelDoesNotFailOthers(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		src := &source{gate: make(chan struct{})}
		ctx1, cancel1 := context.WithCancel(t.Context())
		var err1, err2 error
		var v2 int
		var wg sync.WaitGroup
		wg.Go(func() { _, err1 = a.Get(ctx1, "k", src.load) })
		synctest.Wait() // the first caller started the load
		wg.Go(func() { v2, err2 = a.Get(t.Context(), "k", src.load) })
		synctest.Wait()
		cancel1()
		synctest.Wait()
		if !errors.Is(err1, context.Canceled) {
			t.Fatalf("cancelled caller: err = %v, want context.Canceled", err1)
		}
		close(src.gate)
		wg.Wait()
		if err2 != nil || v2 != 1 {
			t.Fatalf("second caller: %d, %v; want 1, nil", v2, err2)
		}
		if v, ok := a.Peek("k"); !ok || v != 1 {
			t.Fatalf("load was not stored after the first caller left: %d, %v", v, ok)
		}
	})
}

func TestLoadTimeout(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{LoadTimeout: time.Second})
		src := &source{gate: make(chan struct{})} // never released
		_, err := a.Get(t.Context(), "k", src.load)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want DeadlineExceeded", err)
		}
	})
}

func TestLoaderPanicBecomesErrorForEveryWaiter(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		gate := make(chan struct{})
		var calls atomic.Int64
		boom := func(ctx context.Context, key string) (int, error) {
			calls.Add(1)
			<-gate
			panic("boom")
		}
		errs := make([]error, 10)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = a.Get(t.Context(), "k", boom) })
		}
		synctest.Wait()
		close(gate)
		wg.Wait()
		for i, err := range errs {
			var pe *cache.PanicError
			if !errors.Is(err, cache.ErrPanic) || !errors.As(err, &pe) || pe.Value != "boom" {
				t.Fatalf("waiter %d: err = %v, want a PanicError(boom) wrapping ErrPanic", i, err)
			}
		}
		if calls.Load() != 1 {
			t.Fatalf("loads = %d, want 1", calls.Load())
		}
		if v, err := a.Get(t.Context(), "k", (&source{}).load); err != nil || v != 1 {
			t.Fatalf("after a panic the next Get = %d, %v; want a fresh load", v, err)
		}
	})
}

func TestNilLoader(t *testing.T) {
	a := newAside(t, cache.Options{})
	if _, err := a.Get(t.Context(), "k", nil); !errors.Is(err, cache.ErrNilLoader) {
		t.Fatalf("Get: err = %v", err)
	}
	if _, err := a.Fetch(t.Context(), "k", nil); !errors.Is(err, cache.ErrNilLoader) {
		t.Fatalf("Fetch: err = %v", err)
	}
	if _, err := a.GetMany(t.Context(), []string{"k"}, nil); !errors.Is(err, cache.ErrNilLoader) {
		t.Fatalf("GetMany: err = %v", err)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	a := newAside(t, cache.Options{TTL: time.Minute})
	errDB := errors.New("db down")
	src := &source{val: func(_ string, n int64) (int, error) {
		if n == 1 {
			return 0, errDB
		}
		return 42, nil
	}}
	if _, err := a.Get(t.Context(), "k", src.load); !errors.Is(err, errDB) {
		t.Fatalf("first Get: err = %v, want db down", err)
	}
	if v, err := a.Get(t.Context(), "k", src.load); err != nil || v != 42 {
		t.Fatalf("second Get = %d, %v; want 42 (the error must not be cached)", v, err)
	}
}

func TestNegativeCaching(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		errNoUser := errors.New("no such user")
		a := newAside(t, cache.Options{TTL: time.Hour, NotFound: errNoUser, NegativeTTL: 5 * time.Second})
		src := &source{val: func(string, int64) (int, error) { return 0, fmt.Errorf("lookup: %w", errNoUser) }}
		for range 3 {
			if _, err := a.Get(t.Context(), "ghost", src.load); !errors.Is(err, errNoUser) {
				t.Fatalf("err = %v, want no such user", err)
			}
		}
		if src.calls.Load() != 1 {
			t.Fatalf("loads = %d, want 1 (not-found cached)", src.calls.Load())
		}
		time.Sleep(5 * time.Second)
		a.Get(t.Context(), "ghost", src.load)
		if src.calls.Load() != 2 {
			t.Fatalf("loads = %d after NegativeTTL, want 2", src.calls.Load())
		}
	})
}

func TestNotFoundNotCachedByDefault(t *testing.T) {
	a := newAside(t, cache.Options{TTL: time.Hour})
	src := &source{val: func(string, int64) (int, error) { return 0, cache.ErrNotFound }}
	a.Get(t.Context(), "ghost", src.load)
	a.Get(t.Context(), "ghost", src.load)
	if src.calls.Load() != 2 {
		t.Fatalf("loads = %d, want 2: without NegativeTTL not-found is not cached", src.calls.Load())
	}
}

func TestDeleteDuringLoadDoesNotStoreOldValue(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		src := &source{gate: make(chan struct{})}
		var v int
		var wg sync.WaitGroup
		wg.Go(func() { v, _ = a.Get(t.Context(), "k", src.load) })
		synctest.Wait()
		a.Delete(t.Context(), "k") // the row changed while the old value was being read
		close(src.gate)
		wg.Wait()
		if v != 1 {
			t.Fatalf("caller got %d, want the loaded 1", v)
		}
		if _, ok := a.Peek("k"); ok {
			t.Fatal("a load that began before Delete stored its value")
		}
		if v, _ := a.Get(t.Context(), "k", src.load); v != 2 {
			t.Fatalf("Get after Delete = %d, want a fresh load (2)", v)
		}
	})
}

func TestSetDuringLoadWins(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		src := &source{gate: make(chan struct{})}
		var wg sync.WaitGroup
		wg.Go(func() { a.Get(t.Context(), "k", src.load) })
		synctest.Wait()
		if err := a.Set(t.Context(), "k", 99, cache.Meta{}); err != nil {
			t.Fatal(err)
		}
		close(src.gate)
		wg.Wait()
		if v, ok := a.Peek("k"); !ok || v != 99 {
			t.Fatalf("Peek = %d, %v; want the Set value 99", v, ok)
		}
	})
}

func TestDeleteStartsNewLoadForLaterCallers(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		src := &source{gate: make(chan struct{})}
		var v1, v2 int
		var wg sync.WaitGroup
		wg.Go(func() { v1, _ = a.Get(t.Context(), "k", src.load) })
		synctest.Wait()
		a.Delete(t.Context(), "k")
		wg.Go(func() { v2, _ = a.Get(t.Context(), "k", src.load) })
		synctest.Wait()
		close(src.gate)
		wg.Wait()
		if v1 != 1 || v2 != 2 {
			t.Fatalf("v1, v2 = %d, %d; want 1, 2 (a caller after Delete must not join the older load)", v1, v2)
		}
		if v, _ := a.Peek("k"); v != 2 {
			t.Fatalf("stored %d, want 2", v)
		}
	})
}

func TestClear(t *testing.T) {
	a := newAside(t, cache.Options{})
	src := &source{}
	a.Get(t.Context(), "a", src.load)
	a.Clear()
	if _, ok := a.Peek("a"); ok {
		t.Fatal("entry survived Clear")
	}
	if v, _ := a.Get(t.Context(), "a", src.load); v != 2 {
		t.Fatalf("Get after Clear = %d, want a reload (2)", v)
	}
}

func TestOversizeValueServedNotStored(t *testing.T) {
	store, _ := cache.NewLRU[string, int](10, cache.StoreOptions{MaxCost: 100})
	a, err := cache.New[string, int](store, cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Set(t.Context(), "big", 1, cache.Meta{Cost: 101}); !errors.Is(err, cache.ErrTooLarge) {
		t.Fatalf("Set oversize: err = %v, want ErrTooLarge", err)
	}
	load := func(ctx context.Context, key string) (int, cache.Meta, error) { return 7, cache.Meta{Cost: 500}, nil }
	if v, err := a.Fetch(t.Context(), "big", load); v != 7 || err != nil {
		t.Fatalf("Fetch = %d, %v; the loaded value is still returned", v, err)
	}
	if _, ok := a.Peek("big"); ok {
		t.Fatal("oversize loaded value was stored")
	}
}

func TestGetAfterClose(t *testing.T) {
	a := newAside(t, cache.Options{})
	a.Get(t.Context(), "a", (&source{}).load)
	a.Close()
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if v, err := a.Get(t.Context(), "a", (&source{}).load); err != nil || v != 1 {
		t.Fatalf("hit after Close = %d, %v", v, err)
	}
	if _, err := a.Get(t.Context(), "b", (&source{}).load); !errors.Is(err, cache.ErrClosed) {
		t.Fatalf("miss after Close: err = %v, want ErrClosed", err)
	}
}

func TestCloseCancelsLoads(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		src := &source{gate: make(chan struct{})} // never released
		var err error
		var wg sync.WaitGroup
		wg.Go(func() { _, err = a.Get(t.Context(), "k", src.load) })
		synctest.Wait()
		a.Close() // returns only once the load goroutine has exited
		wg.Wait()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("waiter: err = %v, want Canceled", err)
		}
	})
}

func TestBadOptions(t *testing.T) {
	for _, o := range []cache.Options{
		{TTL: -1}, {Jitter: 1.01}, {Jitter: -0.1}, {EarlyRefreshBeta: -1},
		{StaleWhileRevalidate: -time.Second}, {StaleIfError: -1}, {RefreshAfter: -1},
		{LoadTimeout: -1}, {NegativeTTL: -1}, {ClockResolution: -1}, {ClockResolution: time.Microsecond},
	} {
		if _, err := cache.New[string, int](nil, o); !errors.Is(err, cache.ErrInvalidOptions) {
			t.Errorf("New(%+v): err = %v, want ErrInvalidOptions", o, err)
		}
	}
}

func TestLookup(t *testing.T) {
	a := newAside(t, cache.Options{TTL: time.Minute})
	if _, ok := a.Lookup("k"); ok {
		t.Fatal("Lookup hit on an empty cache")
	}
	a.Get(t.Context(), "k", (&source{}).load)
	if v, ok := a.Lookup("k"); !ok || v != 1 {
		t.Fatalf("Lookup = %d, %v; want 1, true", v, ok)
	}
	if n := testing.AllocsPerRun(100, func() { a.Lookup("k") }); n != 0 {
		t.Fatalf("Lookup hit allocates %v times", n)
	}
	load := (&source{}).load
	if n := testing.AllocsPerRun(100, func() { a.Get(t.Context(), "k", load) }); n != 0 {
		t.Fatalf("Get hit allocates %v times", n)
	}
}

// pausingStore holds one Get, after its lookup, until released: it opens the
// window between a caller's miss and its joining a load.
type pausingStore struct {
	cache.Store[string, int]
	pause            atomic.Bool
	paused, released chan struct{}
}

func (s *pausingStore) Get(key string) (*cache.Entry[int], bool) {
	e, ok := s.Store.Get(key)
	if s.pause.CompareAndSwap(true, false) {
		close(s.paused)
		<-s.released
	}
	return e, ok
}

func TestMissRightAfterALoadFinishesDoesNotLoadAgain(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		lru, _ := cache.NewLRU[string, int](10, cache.StoreOptions{})
		store := &pausingStore{Store: lru, paused: make(chan struct{}), released: make(chan struct{})}
		a, err := cache.New[string, int](store, cache.Options{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		src := &source{gate: make(chan struct{})}
		var wg sync.WaitGroup
		wg.Go(func() { a.Get(t.Context(), "k", src.load) }) // B starts the load
		synctest.Wait()
		store.pause.Store(true)
		var got int
		wg.Go(func() { got, _ = a.Get(t.Context(), "k", src.load) }) // A misses, then pauses
		<-store.paused
		close(src.gate) // B's load stores its value and its flight ends
		synctest.Wait()
		close(store.released) // A resumes with its stale "miss"
		wg.Wait()
		if got != 1 || src.calls.Load() != 1 {
			t.Fatalf("A got %d after %d loads; want 1 from the single load", got, src.calls.Load())
		}
	})
}
