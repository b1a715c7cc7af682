package lb

import (
	"slices"
	"sync"
	"testing"
)

// Alone, a round robin picker follows one exact cycle.
func TestTurnsExactCycleAlone(t *testing.T) {
	var c turns
	c.start(6)
	for i := uint32(7); i < 1000; i++ {
		if got := c.next(); got != i {
			t.Fatalf("turn %d, want %d", got, i)
		}
	}
	if c.cells.Load() != nil {
		t.Fatal("a lone caller spread the counter")
	}
}

// Spread over cells, round robin still gives no position more than turnCellCount
// turns over another, however many goroutines pick, because each cell keeps an
// exact cycle.
func TestTurnsSpreadStaysBalanced(t *testing.T) {
	for _, n := range []int{2, 3, 7, 64} {
		p := &rrPicker{mod: newModulus(n)}
		p.next.start(^uint32(0)) // the next turn wraps to 0
		for range 5 {
			p.Pick(0, false)
		}
		p.next.spread()
		counts := make([]int, n)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 32 {
			wg.Go(func() {
				local := make([]int, n)
				for range 997 {
					local[p.Pick(0, false)]++
				}
				mu.Lock()
				for i, k := range local {
					counts[i] += k
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		lo, hi := counts[0], counts[0]
		for _, k := range counts {
			lo, hi = min(lo, k), max(hi, k)
		}
		if hi-lo > turnCellCount+1 { // +1: the five picks made before spreading
			t.Errorf("n=%d: counts %v spread %d, want ≤ %d", n, counts, hi-lo, turnCellCount+1)
		}
	}
}

// Callers that read no cells before spread published them still advance the
// shared counter afterwards, from where the cells start: the worst case is one
// turn more than the cells alone allow, as RoundRobin's doc says.
func TestTurnsLateSharedPicksAfterSpread(t *testing.T) {
	const n = 64
	p := &rrPicker{mod: newModulus(n)}
	p.next.start(99)
	base := p.next.one.Load()
	p.next.spread()
	counts := make([]int, n)
	for range turnCellCount + 1 { // each saw no cells, then won its compare-and-swap
		x := p.next.one.Load()
		if !p.next.one.CompareAndSwap(x, x+1) {
			t.Fatal("no one else is picking")
		}
		counts[p.mod.of(uint32(x+1))]++
	}
	// Every cell runs up to the position the late picks reached.
	last := p.mod.of(uint32(base + turnCellCount + 1))
	c := p.next.cells.Load()
	for i := range c.c {
		for {
			k := p.mod.of(uint32(c.c[i].n.Add(1)))
			counts[k]++
			if k == last {
				break
			}
		}
	}
	lo, hi := counts[0], counts[0]
	for _, k := range counts {
		lo, hi = min(lo, k), max(hi, k)
	}
	if hi-lo != turnCellCount+1 {
		t.Errorf("counts %v spread %d, want the worst case %d", counts, hi-lo, turnCellCount+1)
	}
}

// Spread, every take advances exactly one cell by one, whether its
// compare-and-swap won or it moved the salt and added: the turns handed out
// are exactly the cells' runs, none lost, none given twice, with many more
// goroutines than cores remapping one another.
func TestTurnsSpreadTakesEachTurnOnce(t *testing.T) {
	var tr turns
	tr.start(1000)
	tr.spread()
	c := tr.cells.Load()
	var starts [turnCellCount]uint32
	for i := range c.c {
		starts[i] = uint32(c.c[i].n.Load())
	}
	const goroutines, each = 64, 4000
	got := make([][]uint32, goroutines)
	var wg, ready sync.WaitGroup
	ready.Add(goroutines)
	start := make(chan struct{})
	for g := range goroutines {
		got[g] = make([]uint32, each)
		wg.Go(func() {
			ready.Done()
			<-start
			for k := range got[g] {
				got[g][k] = tr.next()
			}
		})
	}
	ready.Wait()
	close(start)
	wg.Wait()
	handed := map[uint32]int{}
	for _, vs := range got {
		for _, v := range vs {
			handed[v]++
		}
	}
	want := map[uint32]int{}
	total := 0
	for i := range c.c {
		for v := starts[i] + 1; v != uint32(c.c[i].n.Load())+1; v++ {
			want[v]++
			total++
		}
	}
	if total != goroutines*each {
		t.Fatalf("cells advanced %d turns for %d takes", total, goroutines*each)
	}
	for v, k := range want {
		if handed[v] != k {
			t.Fatalf("turn %d handed out %d times, cells issued it %d times", v, handed[v], k)
		}
	}
	t.Logf("salt moved %d times", c.salt.Load())
}

func TestModulus(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 8, 10, 4096, 65537, 1<<31 - 1, 1 << 31, 1<<32 - 1} {
		d := newModulus(n)
		for _, x := range []uint32{0, 1, 2, 3, 5, 4095, 4096, 65536, 1<<31 - 1, 1 << 31, 1<<32 - 2, 1<<32 - 1, 123456789} {
			if got, want := d.of(x), int(uint64(x)%uint64(n)); got != want {
				t.Fatalf("%d mod %d = %d, want %d", x, n, got, want)
			}
		}
	}
}

// The picks a round robin picker counts per position are exactly the picks
// it handed out, across the 32-bit turn's wrap and after spreading.
func TestTurnsCountPicksExactly(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 64} {
		for _, first := range []uint32{0, 5, ^uint32(0) - 40} { // the last wraps within the run
			p := &rrPicker{mod: newModulus(n)}
			p.next.start(first)
			want := make([]uint64, n)
			for range 50 {
				want[p.Pick(0, false)]++
			}
			want[p.mod.of(p.next.spread())]++ // spreading hands out a turn
			var mu sync.Mutex
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					local := make([]uint64, n)
					for range 301 {
						local[p.Pick(0, false)]++
					}
					mu.Lock()
					for i, k := range local {
						want[i] += k
					}
					mu.Unlock()
				})
			}
			wg.Wait()
			got := make([]uint64, n)
			p.picks(got)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("n=%d first=%d: counted %v, handed out %v", n, first, got, want)
				}
			}
		}
	}
}

// A run spanning whole 2^32 periods of the turn counts each period's
// residues, as a brute-force count over the turns says.
func TestAddRunAcrossPeriods(t *testing.T) {
	const n = 7
	brute := func(a, b uint64) []uint64 {
		c := make([]uint64, n)
		for x := a + 1; x <= b; x++ {
			c[uint64(uint32(x))%n]++
		}
		return c
	}
	for _, r := range [][2]uint64{{0, 0}, {0, 1000}, {1<<32 - 10, 1<<32 + 10}, {3<<32 - 3, 3<<32 + 500}} {
		got := make([]uint64, n)
		addRun(got, n, r[0], r[1])
		if want := brute(r[0], r[1]); !slices.Equal(got, want) {
			t.Errorf("run %v: %v, want %v", r, got, want)
		}
	}
	// Two whole periods and a bit: each period adds below(2^32) per residue.
	got := make([]uint64, n)
	addRun(got, n, 1<<32-1, 3<<32+2)
	want := brute(1<<32-1, 1<<32+2) // the bit: 1<<32 … 1<<32+2 in period terms
	for j := range want {
		want[j] += 2 * below(1<<32, uint64(j), n)
	}
	// The run is (1<<32−1, 3<<32+2]: periods 1 and 2 whole, then 0…2 of period 3.
	if !slices.Equal(got, want) {
		t.Errorf("long run: %v, want %v", got, want)
	}
}
