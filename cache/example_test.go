package cache_test

import (
	"context"
	"errors"
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

func ExampleNewTinyLFU() {
	// A report reads 250 rows once each through a cache of 100
	// that also serves a hot set: TinyLFU admits a row only if it is used
	// more often than the entry it would evict, so the scan leaves the hot
	// set in place (an LRU would hold only the last 100 rows scanned).
	s, err := cache.NewTinyLFU[int, string](100, cache.StoreOptions{})
	if err != nil {
		panic(err)
	}
	get := func(k int) {
		if _, ok := s.Get(k); !ok {
			s.Set(k, &cache.Entry[string]{Value: fmt.Sprint("row ", k)})
		}
	}
	for range 3 {
		for k := range 20 { // the hot set
			get(k)
		}
	}
	for k := 1000; k < 1250; k++ { // the report
		get(k)
	}
	hot := 0
	for k := range 20 {
		if _, ok := s.Get(k); ok {
			hot++
		}
	}
	fmt.Println(hot, "of 20 hot rows kept")
	// Output: 20 of 20 hot rows kept
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

func ExampleAside_Fetch() {
	// Per-entry TTL and cost: a loader that knows how long its answer is good for.
	store, _ := cache.NewLRU[string, []byte](1000, cache.StoreOptions{MaxCost: 1 << 20})
	pages, _ := cache.New(store, cache.Options{TTL: time.Minute})
	defer pages.Close()
	render := func(ctx context.Context, path string) ([]byte, cache.Meta, error) {
		body := []byte("<h1>" + path + "</h1>")
		ttl := time.Minute
		if path == "/news" {
			ttl = 5 * time.Second // changes often
		}
		return body, cache.Meta{TTL: ttl, Cost: int64(len(body))}, nil
	}
	b, err := pages.Fetch(context.Background(), "/news", render)
	fmt.Println(string(b), err)
	// Output: <h1>/news</h1> <nil>
}

func ExampleOptions_notFound() {
	errNoUser := errors.New("no such user")
	users, _ := cache.New[int, string](nil, cache.Options{
		TTL:         time.Minute,
		NotFound:    errNoUser,
		NegativeTTL: 10 * time.Second, // remember misses briefly
	})
	defer users.Close()
	queries := 0
	load := func(ctx context.Context, id int) (string, error) {
		queries++
		return "", errNoUser // SELECT … returned no row
	}
	for range 3 {
		_, err := users.Get(context.Background(), 404, load)
		fmt.Println(errors.Is(err, errNoUser))
	}
	fmt.Println("queries:", queries)
	// Output:
	// true
	// true
	// true
	// queries: 1
}
