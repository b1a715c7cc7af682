package cache_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// A background reload (stale-while-revalidate, refresh-ahead) that learns the
// key no longer exists must stop the old value being served, like a
// foreground load would (Caffeine removes an entry whose refresh returns null).
func TestReloadNotFoundDropsTheOldValue(t *testing.T) {
	for name, opts := range map[string]cache.Options{
		"stale-while-revalidate": {TTL: 10 * time.Second, StaleWhileRevalidate: time.Minute},
		"refresh-ahead":          {TTL: time.Minute, RefreshAfter: 10 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				a := newAside(t, opts)
				deleted := false
				load := func(ctx context.Context, k string) (int, error) {
					if deleted {
						return 0, cache.ErrNotFound
					}
					return 1, nil
				}
				a.Get(t.Context(), "k", load)
				time.Sleep(11 * time.Second) // stale, or due for a refresh
				deleted = true               // the row is deleted at the source
				if v, _ := a.Get(t.Context(), "k", load); v != 1 {
					t.Fatalf("first hit = %d, want the old value while the reload runs", v)
				}
				synctest.Wait()
				if v, err := a.Get(t.Context(), "k", load); !errors.Is(err, cache.ErrNotFound) {
					t.Fatalf("after the reload found nothing: %d, %v; want ErrNotFound", v, err)
				}
			})
		})
	}
}

// A reload whose loader says "do not cache" (Meta.TTL < 0) must not leave
// the old entry behind: it would be served again and reloaded on every hit.
func TestReloadDoNotCacheDropsTheOldValue(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: time.Minute, RefreshAfter: 10 * time.Second})
		calls := 0
		load := func(ctx context.Context, k string) (int, cache.Meta, error) {
			calls++
			if calls == 1 {
				return 1, cache.Meta{}, nil
			}
			return calls, cache.Meta{TTL: -1}, nil
		}
		a.Fetch(t.Context(), "k", load)
		time.Sleep(11 * time.Second)
		a.Fetch(t.Context(), "k", load) // starts the refresh, serves 1
		synctest.Wait()
		if _, ok := a.Peek("k"); ok {
			t.Fatal("the old entry outlived a refresh that said \"do not cache\"")
		}
		if v, _ := a.Fetch(t.Context(), "k", load); v != 3 {
			t.Fatalf("next Fetch = %d, want a load (3)", v)
		}
	})
}
