package cache

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Lock-free readers never miss a key that stays, while writers on other
// goroutines grow the index, fill it with tombstones and shrink it again;
// and each writer reads its own writes: a key it Set is found, a key it
// Deleted is not, whatever the rebuilds in between.
func TestTinyLFUReadersDuringChurn(t *testing.T) {
	s, _ := NewTinyLFU[string, int](1<<20, StoreOptions{}) // nothing is evicted
	const stay = 64
	key := func(w, k int) string { return fmt.Sprint(w, "/", k) }
	for k := range stay {
		s.Set(key(-1, k), &Entry[int]{Value: k})
	}
	var stop atomic.Bool
	var readers, writers sync.WaitGroup
	var missed, stale atomic.Int64
	for range 2 {
		readers.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if e, ok := s.Get(key(-1, i%stay)); !ok || e.Value != i%stay {
					missed.Add(1)
				}
			}
		})
	}
	for w := range 3 {
		writers.Go(func() {
			for round := range 6 {
				n := 40 + round*round*30 // 40 … 790 keys: the table grows and shrinks
				for k := range n {
					s.Set(key(w, k), &Entry[int]{Value: k})
					if e, ok := s.Get(key(w, k)); !ok || e.Value != k {
						stale.Add(1)
					}
				}
				for k := range n {
					s.Delete(key(w, k))
					if _, ok := s.Get(key(w, k)); ok {
						stale.Add(1)
					}
				}
			}
		})
	}
	writers.Wait()
	stop.Store(true)
	readers.Wait()
	if m, st := missed.Load(), stale.Load(); m > 0 || st > 0 {
		t.Fatalf("%d reads missed a key that stayed; %d reads after a Set or Delete saw the state before it", m, st)
	}
	if s.Len() != stay || s.idx.live != stay {
		t.Fatalf("Len %d, index %d, want %d", s.Len(), s.idx.live, stay)
	}
	if slots := len(s.idx.t.Load().slots); slots > 8*stay {
		t.Fatalf("%d slots for %d keys: the index did not shrink", slots, stay)
	}
}
