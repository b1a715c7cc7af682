package cache_test

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
	"go.uber.org/goleak"
)

// A cache its user forgot to Close must not pin itself (and its store)
// through its coarse clock's goroutine or its metrics callback: once it is
// unreachable, the GC collects it and the goroutine stops.
func TestUnclosedCacheIsCollected(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	collected := make(chan struct{})
	func() {
		a, err := cache.New[string, []byte](nil, cache.Options{TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		a.Get(context.Background(), "k", func(ctx context.Context, k string) ([]byte, error) {
			return make([]byte, 1<<20), nil
		})
		runtime.AddCleanup(a, func(ch chan struct{}) { close(ch) }, collected)
	}()
	for i := 0; ; i++ { // bounded: a leak fails after 100 GC cycles
		runtime.GC()
		select {
		case <-collected:
		case <-time.After(10 * time.Millisecond):
			if i == 100 {
				t.Fatal("an unclosed Aside was never collected")
			}
			continue
		}
		break
	}
	if err := goleak.Find(ignore); err != nil {
		t.Fatalf("the collected Aside's clock goroutine still runs: %v", err)
	}
}

// Every Close returns only once the cache's goroutines are gone, also a
// second Close racing the first.
func TestConcurrentCloseWaits(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{})
		release := make(chan struct{})
		go a.Get(context.Background(), "k", func(ctx context.Context, k string) (int, error) {
			<-ctx.Done() // cancelled by Close, but slow to wind down
			<-release
			return 0, ctx.Err()
		})
		synctest.Wait()
		var closed [2]atomic.Bool
		for i := range closed {
			go func() { a.Close(); closed[i].Store(true) }()
		}
		synctest.Wait()
		if closed[0].Load() || closed[1].Load() {
			t.Fatal("a Close returned while a load was still running")
		}
		close(release)
		synctest.Wait()
		if !closed[0].Load() || !closed[1].Load() {
			t.Fatal("Close did not return once the load ended")
		}
	})
}
