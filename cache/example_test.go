package cache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ladder-go/ladder/cache"
)

type user struct{ Name string }

func Example() {
	store, err := cache.NewLRU[int, user](10_000, cache.StoreOptions{})
	if err != nil {
		panic(err)
	}
	users, err := cache.New(store, cache.Options{
		TTL:                  5 * time.Minute,
		Jitter:               0.1,              // ±10%: keys loaded together expire apart
		StaleWhileRevalidate: 30 * time.Second, // hot keys never make callers wait
	})
	if err != nil {
		panic(err)
	}
	defer users.Close()

	queries := 0
	loadUser := func(ctx context.Context, id int) (user, error) {
		queries++ // SELECT name FROM users WHERE id = $1
		return user{Name: fmt.Sprint("user-", id)}, nil
	}
	ctx := context.Background()
	for range 3 {
		u, err := users.Get(ctx, 42, loadUser)
		fmt.Println(u.Name, err)
	}
	fmt.Println("queries:", queries)
	// Output:
	// user-42 <nil>
	// user-42 <nil>
	// user-42 <nil>
	// queries: 1
}

func ExampleAside_Delete() {
	prices, _ := cache.New[string, int](nil, cache.Options{TTL: time.Hour})
	defer prices.Close()
	ctx := context.Background()
	db := map[string]int{"apple": 3}
	load := func(ctx context.Context, k string) (int, error) { return db[k], nil }

	fmt.Println(prices.Get(ctx, "apple", load))
	db["apple"] = 4             // write the source of truth first,
	prices.Delete(ctx, "apple") // then invalidate
	fmt.Println(prices.Get(ctx, "apple", load))
	// Output:
	// 3 <nil>
	// 4 <nil>
}

func ExampleAside_GetMany() {
	a, _ := cache.New[int, string](nil, cache.Options{})
	defer a.Close()
	ctx := context.Background()
	batch := func(ctx context.Context, ids []int) (map[int]string, error) {
		fmt.Println("loading", len(ids), "keys in one query")
		out := map[int]string{}
		for _, id := range ids {
			if id != 3 { // id 3 does not exist
				out[id] = fmt.Sprint("item-", id)
			}
		}
		return out, nil
	}
	got, _ := a.GetMany(ctx, []int{1, 2, 3}, batch)
	fmt.Println(len(got), got[1], got[2])
	got, _ = a.GetMany(ctx, []int{1, 2}, batch) // all hits: no query
	fmt.Println(len(got))
	// Output:
	// loading 3 keys in one query
	// 2 item-1 item-2
	// 2
}

func ExampleNewSharded() {
	// Sixteen LFU shards of 1 000 entries each: parallel readers rarely share a lock.
	s, err := cache.NewSharded(16, func(i, n int) (cache.Store[string, []byte], error) {
		return cache.NewLFU[string, []byte](1000, cache.StoreOptions{MaxCost: 1 << 20})
	}, cache.ShardedOptions[string]{})
	if err != nil {
		panic(err)
	}
	_, err = s.Set("k", &cache.Entry[[]byte]{Value: []byte("v"), Cost: 1})
	e, ok := s.Get("k")
	fmt.Println(string(e.Value), ok, err)
	// Output: v true <nil>
}
