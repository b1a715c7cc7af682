package cache_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/testenv"
)

// An entry due for an early refresh (refresh-ahead) is still fresh: GetMany serves it
// at once, loading nothing, as its doc says ("serves fresh entries"), even while a Get's
// background refresh of it runs. It waited for that refresh (up to LoadTimeout), or had
// the batch load it again.
func TestGetManyServesAnEntryDueForRefresh(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a := newAside(t, cache.Options{TTL: time.Minute, RefreshAfter: time.Second, ExactClock: true})
		src := &source{}
		if v, err := a.Get(t.Context(), "k", src.load); v != 1 || err != nil {
			t.Fatalf("Get = %d, %v", v, err)
		}
		time.Sleep(2 * time.Second) // due for a refresh, 58 s from expiry
		batches := 0
		batch := func(ctx context.Context, keys []string) (map[string]int, error) {
			batches++
			return map[string]int{"k": 99}, nil
		}
		if got, err := a.GetMany(t.Context(), []string{"k"}, batch); err != nil || got["k"] != 1 || batches != 0 {
			t.Fatalf("GetMany = %v, %v with %d batch loads; want k=1 from the store, no load", got, err, batches)
		}
		src.gate = make(chan struct{})
		if v, _ := a.Get(t.Context(), "k", src.load); v != 1 { // starts the background refresh
			t.Fatalf("Get = %d, want 1 while the refresh runs", v)
		}
		done := make(chan map[string]int, 1)
		go func() {
			got, _ := a.GetMany(t.Context(), []string{"k"}, batch)
			done <- got
		}()
		synctest.Wait()
		select {
		case got := <-done:
			if got["k"] != 1 || batches != 0 {
				t.Errorf("GetMany during the refresh = %v with %d batch loads; want k=1, no load", got, batches)
			}
			close(src.gate)
		default:
			t.Error("GetMany waits for a background refresh of an entry it holds fresh")
			close(src.gate)
			<-done
		}
		synctest.Wait()
	})
}
