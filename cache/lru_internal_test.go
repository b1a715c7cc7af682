package cache

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// checkLRU verifies that the lock-free index and the list hold the same
// entries and that cost and count are within bounds.
func checkLRU(t *testing.T, s *LRU[int, int]) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	n, cost := 0, int64(0)
	s.idx.each(func(v *tnode[int, int]) {
		n++
		e, ok := s.l.Peek(v.key)
		if !ok || e != v {
			t.Errorf("index has %v → %p, list has %p (%v)", v.key, v, e, ok)
		}
		if v.hash != s.idx.hash(v.key) || s.idx.get(v.key) != v {
			t.Errorf("key %v: index finds %p, holds %p (hash %#x)", v.key, s.idx.get(v.key), v, v.hash)
		}
	})
	for _, v := range s.l.Values() {
		cost += costOf(v.e.Load())
	}
	if n != s.l.Len() || n != s.idx.live {
		t.Errorf("index holds %d keys (counts %d), list %d", n, s.idx.live, s.l.Len())
	}
	if s.l.Len() > s.size || (s.maxCost > 0 && s.cost > s.maxCost) || cost != s.cost {
		t.Errorf("len %d (size %d), cost %d (counted %d, max %d)", s.l.Len(), s.size, s.cost, cost, s.maxCost)
	}
}

// hammer runs Sets (costs 0 to maxCost), Deletes and Gets of keys in
// [0, keys) from four goroutines at once, checking every hit's value.
func hammer(t *testing.T, s Store[int, int], keys, maxCost int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), uint64(keys)))
			for range 20_000 {
				k := r.IntN(keys)
				switch r.IntN(10) {
				case 0, 1, 2:
					s.Set(k, &Entry[int]{Value: k, Cost: int64(r.IntN(maxCost + 1))})
				case 3:
					s.Delete(k)
				default:
					if e, ok := s.Get(k); ok && e.Value != k {
						t.Errorf("Get(%d) = %d", k, e.Value)
					}
				}
			}
		})
	}
	wg.Wait()
}

// Hits run without the store's lock while Sets, Deletes and evictions
// change it: under -race this proves the lock-free path is sound, and
// afterwards the index and the list must still agree.
func TestLRUConcurrentIndexMatchesList(t *testing.T) {
	for _, opts := range []StoreOptions{{}, {MaxCost: 40}} {
		s, err := NewLRU[int, int](32, opts)
		if err != nil {
			t.Fatal(err)
		}
		hammer(t, s, 64, 4)
		checkLRU(t, s)
	}
}

// Against a model of CLOCK on a list (second chance), a seeded random
// sequence of operations must evict exactly the same keys.
func TestLRUMatchesSecondChanceModel(t *testing.T) {
	const size = 8
	s, _ := NewLRU[int, int](size, StoreOptions{})
	type item struct {
		k   int
		ref bool
	}
	var model []item // oldest first
	find := func(k int) int {
		for i, it := range model {
			if it.k == k {
				return i
			}
		}
		return -1
	}
	r := rand.New(rand.NewPCG(7, 7))
	for step := range 5000 {
		k := r.IntN(20)
		if r.IntN(3) == 0 {
			s.Set(k, &Entry[int]{Value: k})
			if i := find(k); i >= 0 {
				model = append(model[:i], model[i+1:]...)
			}
			for len(model) >= size {
				if model[0].ref {
					model = append(model[1:], item{model[0].k, false})
					continue
				}
				model = model[1:]
			}
			model = append(model, item{k, false})
		} else {
			_, ok := s.Get(k)
			i := find(k)
			if ok != (i >= 0) {
				t.Fatalf("step %d: Get(%d) = %v, model %v", step, k, ok, i >= 0)
			}
			if i >= 0 {
				model[i].ref = true
			}
		}
	}
	checkLRU(t, s)
	if s.Len() != len(model) {
		t.Fatalf("len %d, model %d", s.Len(), len(model))
	}
}

// Overwriting a key never makes it miss: readers see the old entry or the
// new one.
func TestLRUOverwriteNeverMisses(t *testing.T) {
	s, _ := NewLRU[int, int](4, StoreOptions{})
	s.Set(1, &Entry[int]{Value: 0})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			s.Set(1, &Entry[int]{Value: i})
		}
	})
	for range 100_000 {
		if _, ok := s.Get(1); !ok {
			t.Error("Get missed a key being overwritten")
			break
		}
	}
	close(stop)
	wg.Wait()
	checkLRU(t, s)
}

// LRU hits mark entries without a lock, so nothing may read a stored entry
// whole (a struct copy reads ref plainly): holdOff, which rebuilds an entry
// after a failed refresh, races a first hit on it otherwise. Under -race a
// few thousand rounds catch it.
func TestHoldOffDoesNotRaceLockFreeHits(t *testing.T) {
	s, err := NewLRU[int, int](4, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New[int, int](s, Options{TTL: time.Hour, RefreshAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for i := range 20_000 {
		s.Set(1, &Entry[int]{Value: i, refreshAt: 1, expires: 1 << 62}) // unmarked, due for refresh
		start := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { <-start; s.Get(1) })
		wg.Go(func() {
			<-start
			a.mu.Lock()
			defer a.mu.Unlock()
			a.holdOff(1, 0)
		})
		close(start)
		wg.Wait()
		if e, ok := s.Get(1); !ok || e.Value != i || e.expires != 1<<62 {
			t.Fatalf("after holdOff: %+v, %v", e, ok)
		}
	}
}

// NewShardedLRU's shards have an index each, written under the shard's
// lock: under concurrent Sets, Deletes, evictions and hits each must stay
// exactly its shard's list, each key in the shard its hash picks and in no
// other, and the shards within their bounds.
func TestShardedLRUIndexesMatchShards(t *testing.T) {
	for _, c := range []struct {
		shards, size, keys int
		opts               StoreOptions
	}{{8, 64, 200, StoreOptions{}}, {8, 64, 200, StoreOptions{MaxCost: 80}}, {2, 600, 2000, StoreOptions{}}} {
		size, opts := c.size, c.opts // the last grows and shrinks the indexes' tables under hits
		s, err := NewShardedLRU[int, int](c.shards, size, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.lrus) != len(s.shards) {
			t.Fatalf("%d LRUs for %d shards", len(s.lrus), len(s.shards))
		}
		hammer(t, s, c.keys, 3)
		inLists, cost := 0, int64(0)
		for i, st := range s.shards {
			l := st.(*LRU[int, int])
			if l != s.lrus[i] || l.idx.seed != s.seed {
				t.Fatalf("shard %d: not the LRU hits read, or hashed with another seed", i)
			}
			checkLRU(t, l)
			l.mu.Lock()
			inLists += l.l.Len()
			cost += l.cost
			for _, k := range l.l.Keys() {
				if s.shard(k) != st {
					t.Errorf("key %d is in the wrong shard", k)
				}
				for j, o := range s.lrus {
					if j != i && o.idx.get(k) != nil {
						t.Errorf("key %d is in shards %d and %d", k, i, j)
					}
				}
				if e, ok := s.Get(k); !ok || e.Value != k {
					t.Errorf("Get(%d) = %v, %v", k, e, ok)
				}
			}
			l.mu.Unlock()
		}
		if inLists != s.Len() || inLists > size || opts.MaxCost > 0 && cost > opts.MaxCost {
			t.Errorf("lists hold %d keys of cost %d, Len %d; bounds %d, %d", inLists, cost, s.Len(), size, opts.MaxCost)
		}
	}
}
