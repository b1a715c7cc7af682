package cache_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/cache"
)

// FuzzStores drives every store with an arbitrary operation sequence (each
// byte pair is an op and a key) and checks what every store promises: the
// count and cost bounds, fresh Sets readable, Deletes final, Len exact,
// evictions reported, and a cost total that does not drift.
func FuzzStores(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 1, 0, 4, 2, 2, 0, 5})
	f.Add([]byte{0, 7, 0, 7, 3, 7, 0, 8, 1, 8, 2, 8, 0, 9, 0, 10, 0, 11})
	f.Add([]byte{4, 1, 4, 2, 0, 3, 4, 4, 1, 3})
	f.Fuzz(func(t *testing.T, ops []byte) {
		const size, maxCost = 4, 12
		for name, newStore := range stores {
			s, err := newStore(size, cache.StoreOptions{MaxCost: maxCost})
			if err != nil {
				t.Fatal(err)
			}
			present := map[string]int64{} // key → cost, as far as we know
			for i := 0; i+1 < len(ops); i += 2 {
				key := string(rune('a' + ops[i+1]%16))
				switch op := ops[i] % 5; op {
				case 0, 4: // Set with cost 1, or a larger cost
					cost := int64(1)
					if op == 4 {
						cost = int64(ops[i+1]%16) + 1
					}
					n, err := s.Set(key, &cache.Entry[int]{Value: i, Cost: cost})
					if errors.Is(err, cache.ErrTooLarge) {
						delete(present, key)
						if _, ok := s.Get(key); ok {
							t.Fatalf("%s: %q readable after a refused Set", name, key)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s: Set: %v", name, err)
					}
					if n < 0 {
						t.Fatalf("%s: Set reported %d evictions", name, n)
					}
					if e, ok := s.Get(key); !ok || e.Value != i {
						t.Fatalf("%s: Set(%q) then Get = %v, %v", name, key, e, ok)
					}
					present[key] = cost
				case 1:
					s.Delete(key)
					delete(present, key)
					if _, ok := s.Get(key); ok {
						t.Fatalf("%s: %q readable after Delete", name, key)
					}
				default:
					s.Get(key)
				}
				// Reconcile our view with what the store still holds.
				var total int64
				held := 0
				for k, c := range present {
					if _, ok := s.Get(k); ok {
						total += c
						held++
					} else {
						delete(present, k)
					}
				}
				if held != s.Len() || held > size || total > maxCost {
					t.Fatalf("%s: holds %d (Len %d) of cost %d; bounds %d entries, cost %d", name, held, s.Len(), total, size, maxCost)
				}
			}
			// No drift in the cost accounting: emptied, the store takes
			// exactly its bound again (Sharded bounds each shard instead).
			if name == "Sharded" {
				continue
			}
			for k := range 16 {
				s.Delete(string(rune('a' + k)))
			}
			for k := range size {
				if n, err := s.Set(string(rune('A'+k)), &cache.Entry[int]{Cost: maxCost / size}); n != 0 || err != nil {
					t.Fatalf("%s: emptied, then Set %d of %d at cost %d evicted %d (err %v): cost accounting drifted", name, k+1, size, maxCost/size, n, err)
				}
			}
		}
	})
}
