package cache

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// The index agrees with a map through random inserts and removes that grow
// it, fill it with tombstones and shrink it again.
func TestTindexMatchesAMap(t *testing.T) {
	x := newTindex[int, int]()
	model := map[int]*tnode[int, int]{}
	r := rand.New(rand.NewPCG(1, 2))
	check := func(step int) {
		for k, n := range model {
			if got := x.get(k); got != n {
				t.Fatalf("step %d: get(%d) = %p, want %p", step, k, got, n)
			}
		}
		for range 20 {
			k := r.IntN(4000) + 4000 // never inserted
			if got := x.get(k); got != nil {
				t.Fatalf("step %d: get(%d) of a key never inserted = %p", step, k, got)
			}
		}
		if x.live != len(model) {
			t.Fatalf("step %d: live = %d, want %d", step, x.live, len(model))
		}
		if slots := len(x.t.Load().slots); x.used*4 > slots*3 || x.live*2 > slots {
			t.Fatalf("step %d: %d live and %d used of %d slots: over the load bounds", step, x.live, x.used, slots)
		}
	}
	for step := range 20_000 {
		// Phases: grow to ~2000 keys, churn, then shrink to a few.
		span, delP := 2000, 0.3
		switch {
		case step >= 14_000:
			delP = 0.9
		case step >= 6_000:
			delP = 0.5
		}
		k := r.IntN(span)
		if n, ok := model[k]; ok && r.Float64() < delP {
			x.remove(n)
			delete(model, k)
		} else if !ok {
			n := &tnode[int, int]{key: k, hash: x.hash(k)}
			x.insert(n)
			model[k] = n
		}
		if step%500 == 0 || step == 19_999 {
			check(step)
		}
	}
	if slots := len(x.t.Load().slots); len(model) < 100 && slots > 1024 {
		t.Fatalf("%d keys left in %d slots: the table did not shrink", len(model), slots)
	}
	// Removing a node that is not there changes nothing.
	x.remove(&tnode[int, int]{key: -1, hash: x.hash(-1)})
	check(-1)
}

// Readers that never lock always find the keys that stay, and never find
// a key that was never there, while the writer grows, churns and rebuilds
// the table under them.
func TestTindexReadersDuringRebuilds(t *testing.T) {
	x := newTindex[int, int]()
	var mu sync.Mutex // the store's lock
	const stay = 64
	for k := range stay {
		x.insert(&tnode[int, int]{key: k, hash: x.hash(k)})
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if n := x.get(i % stay); n == nil || n.key != i%stay {
					bad.Add(1)
				}
				if x.get(-1-i%100) != nil {
					bad.Add(1)
				}
			}
		})
	}
	r := rand.New(rand.NewPCG(3, 4))
	churn := map[int]*tnode[int, int]{}
	for range 30_000 {
		k := stay + r.IntN(3000)
		mu.Lock()
		if n, ok := churn[k]; ok {
			x.remove(n)
			delete(churn, k)
		} else {
			n := &tnode[int, int]{key: k, hash: x.hash(k)}
			x.insert(n)
			churn[k] = n
		}
		mu.Unlock()
	}
	stop.Store(true)
	wg.Wait()
	if b := bad.Load(); b > 0 {
		t.Fatalf("%d reads missed a key that stayed or found one never inserted", b)
	}
}
