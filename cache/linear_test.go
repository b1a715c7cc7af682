package cache_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache"
)

// TestNoStaleReadAfterWrite hammers a few keys with loads, Deletes, Sets,
// Clears and GetManys at once and checks the version guard: a Get or GetMany
// that starts after a write returned never sees a value older than that
// write, whatever loads were in flight.
func TestNoStaleReadAfterWrite(t *testing.T) {
	const keys, writers, readers, rounds = 4, 2, 6, 400
	var version [keys]atomic.Int64 // the source of truth
	a := newAside(t, cache.Options{TTL: time.Hour})
	load := func(ctx context.Context, k string) (int, error) {
		var i int
		fmt.Sscan(k, &i)
		return int(version[i].Load()), nil
	}
	batch := func(ctx context.Context, ks []string) (map[string]int, error) {
		m := map[string]int{}
		for _, k := range ks {
			m[k], _ = load(ctx, k)
		}
		return m, nil
	}
	var wg sync.WaitGroup
	var writeMu [keys]sync.Mutex // one writer per key at a time: versions stay ordered
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				i := (r + w) % keys
				k := fmt.Sprint(i)
				writeMu[i].Lock()
				v := version[i].Add(1)
				switch r % 3 {
				case 0:
					a.Delete(context.Background(), k)
				case 1:
					a.Set(context.Background(), k, int(v), cache.Meta{})
				default:
					a.Clear()
				}
				writeMu[i].Unlock()
			}
		})
	}
	for rd := range readers {
		wg.Go(func() {
			for r := range rounds {
				i := (r + rd) % keys
				k := fmt.Sprint(i)
				writeMu[i].Lock() // no write in progress: floor's write has returned
				floor := int(version[i].Load())
				writeMu[i].Unlock()
				if rd%2 == 0 {
					v, err := a.Get(context.Background(), k, load)
					if err != nil || v < floor {
						t.Errorf("Get(%s) = %d, %v after version %d was written", k, v, err, floor)
						return
					}
				} else {
					m, err := a.GetMany(context.Background(), []string{k, k, fmt.Sprint((i + 1) % keys)}, batch)
					if err != nil || m[k] < floor {
						t.Errorf("GetMany(%s) = %d, %v after version %d was written", k, m[k], err, floor)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
