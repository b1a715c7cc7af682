package cache_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

func TestGetManyOneBatchForMisses(t *testing.T) {
	a := newAside(t, cache.Options{})
	a.Set(t.Context(), "a", 1, cache.Meta{})
	var batches [][]string
	load := func(ctx context.Context, keys []string) (map[string]int, error) {
		batches = append(batches, slices.Sorted(slices.Values(keys)))
		out := map[string]int{}
		for _, k := range keys {
			if k != "missing" {
				out[k] = int(k[0])
			}
		}
		return out, nil
	}
	got, err := a.GetMany(t.Context(), []string{"a", "b", "c", "b", "missing"}, load)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a": 1, "b": 'b', "c": 'c'}
	if !maps.Equal(got, want) {
		t.Fatalf("GetMany = %v, want %v", got, want)
	}
	if len(batches) != 1 || !slices.Equal(batches[0], []string{"b", "c", "missing"}) {
		t.Fatalf("batches = %v, want one batch [b c missing]", batches)
	}
	if v, ok := a.Peek("c"); !ok || v != 'c' {
		t.Fatal("batch-loaded value not stored")
	}
	if _, err := a.GetMany(t.Context(), []string{"a", "b", "c"}, load); err != nil || len(batches) != 1 {
		t.Fatalf("all hits still loaded: batches %d, err %v", len(batches), err)
	}
}

func TestGetManyErrorAndJoin(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		errDB := errors.New("db down")
		if _, err := a.GetMany(t.Context(), []string{"x"}, func(context.Context, []string) (map[string]int, error) {
			return nil, errDB
		}); !errors.Is(err, errDB) {
			t.Fatalf("err = %v, want db down", err)
		}
		// A Get for a key the batch is loading joins the batch.
		gate := make(chan struct{})
		calls := 0
		batch := func(ctx context.Context, keys []string) (map[string]int, error) {
			calls++
			<-gate
			return map[string]int{"p": 10, "q": 20}, nil
		}
		var wg sync.WaitGroup
		var got map[string]int
		var single int
		wg.Go(func() { got, _ = a.GetMany(t.Context(), []string{"p", "q"}, batch) })
		synctest.Wait()
		src := &source{}
		wg.Go(func() { single, _ = a.Get(t.Context(), "q", src.load) })
		synctest.Wait()
		close(gate)
		wg.Wait()
		if calls != 1 || src.calls.Load() != 0 || single != 20 || got["p"] != 10 {
			t.Fatalf("batch calls %d, single loads %d, Get = %d, GetMany = %v", calls, src.calls.Load(), single, got)
		}
	})
}

func TestGetManyHonoursNegativeCache(t *testing.T) {
	a := newAside(t, cache.Options{NegativeTTL: time.Minute})
	batches := 0
	load := func(ctx context.Context, keys []string) (map[string]int, error) {
		batches++
		return map[string]int{"a": 1}, nil // "ghost" does not exist
	}
	for range 3 {
		got, err := a.GetMany(t.Context(), []string{"a", "ghost"}, load)
		if err != nil || len(got) != 1 || got["a"] != 1 {
			t.Fatalf("GetMany = %v, %v", got, err)
		}
	}
	if batches != 1 {
		t.Fatalf("batches = %d, want 1: the cached not-found must not be reloaded", batches)
	}
	if _, err := a.Get(t.Context(), "ghost", (&source{}).load); !errors.Is(err, cache.ErrNotFound) {
		t.Fatalf("Get(ghost) = %v, want the cached ErrNotFound", err)
	}
}

// A key the batch loader leaves out no longer exists at the source, so the
// stale entry GetMany was reloading must go, as it does after a Get's reload:
// a later Get inside the stale window must not serve the deleted value.
func TestGetManyMissingKeyDropsTheStaleEntry(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: 10 * time.Second, StaleWhileRevalidate: time.Minute})
		a.Set(t.Context(), "k", 1, cache.Meta{})
		time.Sleep(11 * time.Second) // expired, inside the stale window
		got, err := a.GetMany(t.Context(), []string{"k"}, func(context.Context, []string) (map[string]int, error) {
			return map[string]int{}, nil // "k" was deleted at the source
		})
		if err != nil || len(got) != 0 {
			t.Fatalf("GetMany = %v, %v; want no entries", got, err)
		}
		gone := func(context.Context, string) (int, error) { return 0, cache.ErrNotFound }
		if v, err := a.Get(t.Context(), "k", gone); !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("Get after the batch found nothing = %d, %v; want ErrNotFound (the stale value was served)", v, err)
		}
	})
}
