package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
)

// prefix matches this package's prefix, not rediscache's.
var prefix = regexp.MustCompile(`\bcache: `)

// assertPrefixOnce fails unless err's message starts with this package's
// prefix and never repeats it.
func assertPrefixOnce(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	msg := err.Error()
	if n := len(prefix.FindAllStringIndex(msg, -1)); n != 1 || !prefix.MatchString(msg[:min(len(msg), 7)]) {
		t.Errorf("%s: %q: want the prefix \"cache: \" once, at the start (found %d)", what, msg, n)
	}
}

// Every bad configuration is an ErrInvalidOptions whose message says
// "cache: invalid options:" once, then the field and value.
func TestBadConfigurationErrors(t *testing.T) {
	type kv = cache.Store[string, int]
	lru := func(n int, o cache.StoreOptions) (kv, error) { return cache.NewLRU[string, int](n, o) }
	stores := map[string]func(int, cache.StoreOptions) (kv, error){
		"LRU":      lru,
		"LFU":      func(n int, o cache.StoreOptions) (kv, error) { return cache.NewLFU[string, int](n, o) },
		"FIFO":     func(n int, o cache.StoreOptions) (kv, error) { return cache.NewFIFO[string, int](n, o) },
		"TwoQueue": func(n int, o cache.StoreOptions) (kv, error) { return cache.NewTwoQueue[string, int](n, o) },
		"ARC":      func(n int, o cache.StoreOptions) (kv, error) { return cache.NewARC[string, int](n, o) },
		"ShardedLRU": func(n int, o cache.StoreOptions) (kv, error) {
			return cache.NewShardedLRU[string, int](4, n, o)
		},
		"Sharded": func(n int, o cache.StoreOptions) (kv, error) {
			return cache.NewSharded(2, func(i, _ int) (kv, error) { return lru(n, o) }, cache.ShardedOptions[string]{})
		},
	}
	cases := map[string]func() error{}
	for name, mk := range stores {
		cases[name+" size 0"] = func() error { _, err := mk(0, cache.StoreOptions{}); return err }
		cases[name+" size -1"] = func() error { _, err := mk(-1, cache.StoreOptions{}); return err }
		cases[name+" MaxCost -1"] = func() error { _, err := mk(4, cache.StoreOptions{MaxCost: -1}); return err }
	}
	for _, n := range []int{0, -1, 1<<16 + 1} {
		cases[fmt.Sprint("NewShardedLRU shards ", n)] = func() error { _, err := cache.NewShardedLRU[string, int](n, 10, cache.StoreOptions{}); return err }
		cases[fmt.Sprint("NewSharded shards ", n)] = func() error {
			_, err := cache.NewSharded(n, func(i, _ int) (kv, error) { return lru(4, cache.StoreOptions{}) }, cache.ShardedOptions[string]{})
			return err
		}
	}
	cases["NewSharded nil newShard"] = func() error {
		_, err := cache.NewSharded[string, int](2, nil, cache.ShardedOptions[string]{})
		return err
	}
	cases["NewSharded newShard returns nil"] = func() error {
		_, err := cache.NewSharded(2, func(int, int) (kv, error) { return nil, nil }, cache.ShardedOptions[string]{})
		return err
	}
	for name, o := range map[string]cache.Options{
		"TTL":                  {TTL: -1},
		"RefreshAfter":         {RefreshAfter: -time.Second},
		"StaleWhileRevalidate": {StaleWhileRevalidate: -1},
		"StaleIfError":         {StaleIfError: -1},
		"LoadTimeout":          {LoadTimeout: -1},
		"NegativeTTL":          {NegativeTTL: -1},
		"ClockResolution -1":   {ClockResolution: -1},
		"ClockResolution 1µs":  {ClockResolution: time.Microsecond},
		"Jitter -0.1":          {Jitter: -0.1},
		"Jitter 2":             {Jitter: 2},
		"Jitter NaN":           {Jitter: math.NaN()},
		"EarlyRefreshBeta -1":  {EarlyRefreshBeta: -1},
		"EarlyRefreshBeta Inf": {EarlyRefreshBeta: math.Inf(1)},
		"EarlyRefreshBeta NaN": {EarlyRefreshBeta: math.NaN()},
	} {
		cases["Options."+name] = func() error { _, err := cache.New[string, int](nil, o); return err }
	}
	for name, f := range cases {
		err := f()
		if !errors.Is(err, cache.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", name, err)
			continue
		}
		assertPrefixOnce(t, name, err)
		if want := "cache: invalid options: "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
			t.Errorf("%s: %q: want the sentinel first", name, err)
		}
	}
}

// Errors returned while the cache runs carry the prefix once too, including
// those that wrap one of this package's sentinels.
func TestRuntimeErrorsSayCacheOnce(t *testing.T) {
	for name, mk := range map[string]func() (cache.Store[string, int], error){
		"LRU": func() (cache.Store[string, int], error) {
			return cache.NewLRU[string, int](4, cache.StoreOptions{MaxCost: 2})
		},
		"LFU": func() (cache.Store[string, int], error) {
			return cache.NewLFU[string, int](4, cache.StoreOptions{MaxCost: 2})
		},
		"FIFO": func() (cache.Store[string, int], error) {
			return cache.NewFIFO[string, int](4, cache.StoreOptions{MaxCost: 2})
		},
		"TwoQueue": func() (cache.Store[string, int], error) {
			return cache.NewTwoQueue[string, int](4, cache.StoreOptions{MaxCost: 2})
		},
		"ARC": func() (cache.Store[string, int], error) {
			return cache.NewARC[string, int](4, cache.StoreOptions{MaxCost: 2})
		},
	} {
		s, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		a, err := cache.New(s, cache.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = a.Set(t.Context(), "k", 1, cache.Meta{Cost: 3})
		if !errors.Is(err, cache.ErrTooLarge) {
			t.Errorf("%s: Set too large = %v, want ErrTooLarge", name, err)
		}
		assertPrefixOnce(t, name+" too large", err)
		a.Close()
	}

	a := newAside(t, cache.Options{NegativeTTL: time.Minute})
	gone := func(context.Context, string) (int, error) { return 0, cache.ErrNotFound }
	_, err := a.Get(t.Context(), "g", gone)
	assertPrefixOnce(t, "not found", err)
	_, err = a.Get(t.Context(), "g", gone)
	assertPrefixOnce(t, "cached not found", err)
	_, err = a.Get(t.Context(), "c", func(context.Context, string) (int, error) { return 0, cache.ErrClosed })
	assertPrefixOnce(t, "loader returning a cache error", err)
	_, err = a.GetMany(t.Context(), []string{"b"}, func(context.Context, []string) (map[string]int, error) {
		return nil, cache.ErrNotFound
	})
	assertPrefixOnce(t, "batch not found as a whole", err)
	b := newAside(t, cache.Options{})
	b.Close()
	_, err = b.Get(t.Context(), "x", gone)
	assertPrefixOnce(t, "closed", err)
}
