package rediscache_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// A real Sentinel failover under two instances: while the master is down and
// the replica is promoted, every Get is answered (L1, else the loader; never
// an error); afterwards both instances use the new master for L2 and for
// invalidation, so a Delete on one evicts the other's L1.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	s := testenv.StartSentinel(t)
	a := newInstance(t, s.Client(t), "failover:", rediscache.Options{})
	b := newInstance(t, s.Client(t), "failover:", rediscache.Options{})
	ready(t, a, b)
	ctx := t.Context()
	src := &db{rows: map[string]user{"k": {1, "v1"}}}
	for _, c := range []*rediscache.Cache[user]{a, b} {
		if u, err := c.Get(ctx, "k", src.load); err != nil || u.Name != "v1" {
			t.Fatalf("Get before the failover: %v, %v", u, err)
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var errs []error
	calls := 0
	wg.Go(func() { // fresh keys all through the failover: misses in L1 and in L2
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			k := fmt.Sprint("during-", i)
			src.put(k, user{i, "x"})
			if _, err := b.Get(ctx, k, src.load); err != nil {
				errs = append(errs, err)
			}
			calls++
		}
	})
	s.Failover()
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d Gets failed during the failover, first: %v", len(errs), calls, errs[0])
	}

	src.put("k", user{1, "v2"})
	eventually(t, "a's Delete to succeed on the new master", func() bool { return a.Delete(ctx, "k") == nil })
	eventually(t, "b's L1 to lose k", func() bool { _, ok := b.L1().Peek("k"); return !ok })
	if u, err := b.Get(ctx, "k", src.load); err != nil || u.Name != "v2" {
		t.Fatalf("b.Get after a's Delete: %v, %v; want v2", u, err)
	}
	// L2 works again: a value a loads is served to b by Redis, not the loader.
	src.put("after", user{2, "y"})
	eventually(t, "L2 to answer b for a key a loaded", func() bool {
		if _, err := a.Get(ctx, "after", src.load); err != nil {
			return false
		}
		b.L1().Delete(ctx, "after")
		before := src.reads.Load()
		_, err := b.Get(ctx, "after", src.load)
		return err == nil && src.reads.Load() == before // b was answered without the loader
	})
}
