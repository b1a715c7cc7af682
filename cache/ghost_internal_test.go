package cache

import (
	"fmt"
	"math"
	"testing"
)

// A store bounded by cost may be given a huge count bound; its ghost lists
// (keys remembered after eviction) must then follow what it holds, not the
// count bound, or every key ever evicted is remembered forever.
func TestGhostsFollowResidentCount(t *testing.T) {
	q, _ := NewTwoQueue[string, int](math.MaxInt, StoreOptions{MaxCost: 10})
	a, _ := NewARC[string, int](math.MaxInt, StoreOptions{MaxCost: 10})
	for i := range 10_000 {
		k := fmt.Sprint(i)
		q.Set(k, &Entry[int]{})
		a.Set(k, &Entry[int]{})
		if i%3 == 0 { // some reuse, so both queues fill
			q.Get(k)
			a.Get(k)
		}
	}
	if n := q.ghost.Len(); n > 10 {
		t.Errorf("2Q remembers %d evicted keys while holding %d", n, q.Len())
	}
	if n := a.b1.Len() + a.b2.Len(); n > 2*10 {
		t.Errorf("ARC remembers %d evicted keys while holding %d", n, a.Len())
	}
}
