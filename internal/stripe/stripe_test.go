package stripe

import (
	"sync"
	"testing"
)

func TestOfIsInRange(t *testing.T) {
	for _, bits := range []uint{1, 4, 5, 16, 63} {
		for salt := range uint64(100) {
			if s := Of(salt, bits); s >= 1<<bits {
				t.Fatalf("Of(%d, %d) = %d, want < %d", salt, bits, s, uint64(1)<<bits)
			}
		}
	}
}

func TestOfAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Of(3, 5) }); n != 0 {
		t.Fatalf("Of allocates %v times per call", n)
	}
}

// Stacks side by side (2 or 8 KiB apart, as the runtime hands out small
// ones) spread over the stripes at least as well as random picks: 64
// goroutines on 32 stripes fill about 28 of them.
func TestNeighbouringStacksSpread(t *testing.T) {
	const bits, n = 5, 64
	base := uint64(0xc000100000)
	for _, shift := range []uint{11, 13} {
		for salt := range uint64(50) {
			used := map[uint64]bool{}
			for i := range uint64(n) {
				used[mix(base+i<<shift, salt, bits)] = true
			}
			if len(used) < 22 {
				t.Errorf("stacks %d B apart, salt %d: %d goroutines on %d of %d stripes", 1<<shift, salt, n, len(used), 1<<bits)
			}
		}
	}
}

// A new salt separates most pairs of goroutines that shared a stripe.
// (Adding the salt after the multiply kept every such pair together.)
func TestNewSaltSeparatesCollidingPairs(t *testing.T) {
	const bits = 5
	base := uint64(0xc000100000)
	for _, shift := range []uint{11, 13} {
		pairs, still := 0, 0
		for salt := range uint64(64) {
			for i := range uint64(64) {
				for j := i + 1; j < 64; j++ {
					a, b := base+i<<shift, base+j<<shift
					if mix(a, salt, bits) != mix(b, salt, bits) {
						continue
					}
					pairs++
					if mix(a, salt+1, bits) == mix(b, salt+1, bits) {
						still++
					}
				}
			}
		}
		if pairs == 0 || still*2 >= pairs {
			t.Errorf("stacks %d B apart: %d of %d colliding pairs still collide after the salt moves", 1<<shift, still, pairs)
		}
		t.Logf("stacks %d B apart: %d of %d colliding pairs still collide after the salt moves", 1<<shift, still, pairs)
	}
}

// A Counter's cells add up to every Add, from many goroutines at once.
func TestCounterCountsEveryAdd(t *testing.T) {
	var c Counter
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for range 1000 {
				c.Add(int64(g%3 + 1))
			}
		})
	}
	wg.Wait()
	want := int64(0)
	for g := range 16 {
		want += int64(g%3+1) * 1000
	}
	if got := c.Load(); got != want {
		t.Fatalf("Load = %d, want %d", got, want)
	}
}
