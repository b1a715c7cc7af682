package cache

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// A cache read now and then (much less than once a tick) reads the exact
// clock: its coarse clock must park, not tick on between reads.
func TestSparseReadsDoNotRunTheClock(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a, err := New[string, int](nil, Options{TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		load := func(ctx context.Context, k string) (int, error) { return 1, nil }
		const reads = 100
		for range reads {
			a.Get(context.Background(), "k", load)
			time.Sleep(50 * time.Millisecond) // 50 ticks of the default 1 ms clock
			synctest.Wait()
		}
		if n := a.clk.ticks.Load(); n > 2*reads {
			t.Fatalf("%d reads 50 ms apart cost %d clock wake-ups", reads, n)
		}
		// Reads in a burst still get the coarse clock.
		for range 1000 {
			a.Get(context.Background(), "k", load)
			time.Sleep(100 * time.Microsecond)
		}
		if a.clk.t.Load() == 0 {
			t.Fatal("the coarse clock is parked during a burst of reads")
		}
	})
}
