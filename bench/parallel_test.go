package bench

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// parallel runs b.N operations spread over GOMAXPROCS goroutines, like
// b.RunParallel, and reports time per operation the same way. body runs n
// operations, starting wherever seed says (each call gets a fresh seed).
//
// It exists because testing.PB's per-goroutine counter is a 32-byte
// allocation that is written on every pb.Next: when the workers' PBs land in
// one cache line (they often do, being allocated one after another), every
// iteration of every worker passes that line between cores, adding tens of
// nanoseconds to whichever benchmark drew the bad layout. Here each worker
// keeps its count in a register and takes work in chunks from one padded
// counter, so a peer and ladder measured in the same run pay the same,
// small, harness cost.
func parallel(b *testing.B, body func(seed uint64, n int)) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	var left struct {
		_ [64]byte
		n atomic.Int64
		_ [64]byte
	}
	left.n.Store(int64(b.N))
	chunk := int64(max(1, min(10_000, b.N/(procs*16))))
	var wg sync.WaitGroup
	b.ResetTimer()
	for range procs {
		wg.Go(func() {
			for {
				end := left.n.Add(-chunk)
				n := chunk + min(end, 0)
				if n <= 0 {
					return
				}
				body(rand.Uint64(), int(n))
			}
		})
	}
	wg.Wait()
}

// TestParallel checks that parallel runs exactly b.N operations.
func TestParallel(t *testing.T) {
	for _, n := range []int{1, 7, 1000, 123_457} {
		var done atomic.Int64
		b := &testing.B{N: n}
		parallel(b, func(_ uint64, k int) { done.Add(int64(k)) })
		if done.Load() != int64(n) {
			t.Errorf("b.N = %d: ran %d", n, done.Load())
		}
	}
}
