package cachetest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/cachetest"
)

func ExampleClock() {
	clock := cachetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	prices, _ := cache.New[string, int](nil, cache.Options{TTL: time.Minute, Now: clock.Now})
	defer prices.Close()
	loads := 0
	load := func(ctx context.Context, k string) (int, error) { loads++; return 100 + loads, nil }

	v1, _ := prices.Get(context.Background(), "apple", load)
	clock.Advance(59 * time.Second)
	v2, _ := prices.Get(context.Background(), "apple", load)
	clock.Advance(time.Second)
	v3, _ := prices.Get(context.Background(), "apple", load)
	fmt.Println(v1, v2, v3)
	// Output: 101 101 102
}
