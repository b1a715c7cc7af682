package rediscache_test

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/redis/go-redis/v9"
)

func Example() {
	srv, _ := miniredis.Run() // in production: your Redis, Sentinel or Cluster
	defer srv.Close()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	defer rdb.Close()

	opts := rediscache.Options{L1: cache.Options{TTL: time.Minute}, TTL: 10 * time.Minute}
	web1, _ := rediscache.New[string](rdb, nil, opts) // two instances of one service
	defer web1.Close()
	web2, _ := rediscache.New[string](rdb, nil, opts)
	defer web2.Close()

	ctx := context.Background()
	for _, c := range []*rediscache.Cache[string]{web1, web2} {
		if err := c.Ready(ctx); err != nil { // hearing each other's invalidations
			panic(err)
		}
	}

	queries := 0
	load := func(ctx context.Context, id string) (string, error) {
		queries++
		return "profile of " + id, nil
	}
	v1, _ := web1.Get(ctx, "42", load) // miss everywhere: one query, stored in L1 and Redis
	v2, _ := web2.Get(ctx, "42", load) // web2's L1 misses, Redis answers
	fmt.Println(v1, "|", v2, "| queries:", queries)
	// Output: profile of 42 | profile of 42 | queries: 1
}
