package cache_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// However an entry is renewed (a miss after expiry, stale-while-revalidate,
// refresh-ahead), many callers on one hot key cause one load per expiry:
// 64 goroutines reading every 10 ms for 5 s, with loads that take 100 ms and
// entries renewed 1 s after they were stored, make loads at 0, 1.1, 2.2, 3.3
// and 4.4 s, and no others. Callers wake at the very instants a reload
// finishes, so some read the old entry just before it is replaced.
func TestOneLoadPerExpiryOnEveryPath(t *testing.T) {
	for name, opts := range map[string]cache.Options{
		"miss":                   {TTL: time.Second},
		"stale-while-revalidate": {TTL: time.Second, StaleWhileRevalidate: time.Minute},
		"refresh-ahead":          {TTL: time.Minute, RefreshAfter: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				opts.ExactClock = true
				a := newAside(t, opts)
				var loads atomic.Int64
				load := func(ctx context.Context, k string) (int, error) {
					n := loads.Add(1)
					time.Sleep(100 * time.Millisecond)
					return int(n), nil
				}
				start := time.Now()
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						for time.Since(start) < 5*time.Second {
							if _, err := a.Get(t.Context(), "k", load); err != nil {
								t.Error(err)
								return
							}
							time.Sleep(10 * time.Millisecond)
						}
					})
				}
				wg.Wait()
				synctest.Wait()
				if n := loads.Load(); n != 5 {
					t.Fatalf("%d loads in 5 s, want 5 (one per renewal)", n)
				}
			})
		})
	}
}

// holdingStore makes the next Get, once armed, wait after reading its entry,
// so a test can finish a reload between a caller's read and what it does next.
type holdingStore struct {
	cache.Store[string, int]
	hold atomic.Pointer[chan struct{}]
}

func (s *holdingStore) Get(k string) (*cache.Entry[int], bool) {
	e, ok := s.Store.Get(k)
	if h := s.hold.Swap(nil); h != nil {
		<-*h
	}
	return e, ok
}

// A caller that read the entry just before a background reload replaced it
// must not start another reload: the entry it would renew is already renewed.
func TestNoReloadOfAnEntryAlreadyReplaced(t *testing.T) {
	for name, opts := range map[string]cache.Options{
		"stale-while-revalidate": {TTL: time.Second, StaleWhileRevalidate: time.Minute},
		"refresh-ahead":          {TTL: time.Minute, RefreshAfter: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				lru, err := cache.NewLRU[string, int](10, cache.StoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				store := &holdingStore{Store: lru}
				opts.ExactClock = true
				a, err := cache.New[string, int](store, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer a.Close()
				src := &source{}
				a.Get(t.Context(), "k", src.load)
				time.Sleep(2 * time.Second) // stale, or due for a refresh
				src.gate = make(chan struct{})
				if v, _ := a.Get(t.Context(), "k", src.load); v != 1 { // starts the reload
					t.Fatalf("Get = %d, want the old value (1) while the reload runs", v)
				}
				hold := make(chan struct{})
				store.hold.Store(&hold)
				done := make(chan int)
				go func() {
					v, _ := a.Get(t.Context(), "k", src.load)
					done <- v
				}()
				synctest.Wait() // the caller has read the old entry
				close(src.gate)
				synctest.Wait() // the reload has stored its value
				close(hold)
				if v := <-done; v != 1 {
					t.Fatalf("Get = %d, want the old value it read (1)", v)
				}
				synctest.Wait()
				if n := src.calls.Load(); n != 2 {
					t.Fatalf("%d loads, want 2: a caller renewed an entry already renewed", n)
				}
			})
		})
	}
}
