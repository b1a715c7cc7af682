package lb

import (
	"sync/atomic"

	"github.com/ladder-go/ladder/internal/stripe"
)

// turns is the position counter of the round robin pickers. Alone, it is one
// shared counter, so every caller's picks follow one exact cycle. The first
// time two callers collide on it (a compare-and-swap fails), it spreads over
// cells, each on its own cache line, chosen by the calling goroutine, like
// Java's LongAdder: two cores picking at once then stop trading one cache line
// (a shared counter costs about 4× an uncontended one on 2 cores). Each cell
// keeps its own exact cycle, started at a different offset, so over any stretch
// of picks no position gets more than turnCellCount+1 turns more than another (one
// per cell, and one for the shared counter, which callers that read no cells
// yet may still advance just after spread): round robin per worker, as Envoy
// and nginx run it. Once spread, it stays spread for the picker's life, so
// picks made one at a time by different goroutines then follow their cells'
// cycles, not one.
//
// The counters are 64 bits wide though a turn is 32 (the picker's modulus
// reads 32): each counter then also says exactly how many picks it has
// handed out since it started (first, or a cell's start), which is how a
// bare pool's telemetry counts round robin's picks per backend without
// adding an atomic to them (see picks).
type turns struct {
	one   atomic.Uint64
	first uint64 // one's start; set before the picker is shared
	cells atomic.Pointer[turnCells]
}

// turnCells are the cells of a spread counter. Goroutines map to cells by
// their stack address mixed with salt; a caller that finds its cell
// contended changes the salt, remapping every goroutine, so two goroutines
// that keep running at once (a worker pool) do not stay stuck on one cell.
type turnCells struct {
	salt atomic.Uint64
	base uint64 // cell i started at base+i
	_    [48]byte
	c    [turnCellCount]turnCell
}

type turnCell struct {
	n atomic.Uint64
	_ [56]byte
}

const (
	turnBits      = 4
	turnCellCount = 1 << turnBits
)

// start sets the counter so that the next turn is first+1.
func (t *turns) start(first uint32) {
	t.first = uint64(first)
	t.one.Store(uint64(first))
}

// next returns the next turn of the calling goroutine's cycle.
func (t *turns) next() uint32 {
	if c := t.cells.Load(); c != nil {
		return c.take()
	}
	x := t.one.Load()
	if t.one.CompareAndSwap(x, x+1) {
		return uint32(x + 1)
	}
	return t.spread()
}

// spread moves the counter to cells, once: cell i starts where the shared
// counter was, plus i, so the cells' cycles are staggered.
func (t *turns) spread() uint32 {
	c := new(turnCells)
	base := t.one.Load()
	c.base = base
	for i := range c.c {
		c.c[i].n.Store(base + uint64(i))
	}
	if !t.cells.CompareAndSwap(nil, c) {
		c = t.cells.Load()
	}
	return c.take()
}

// take advances the caller's cell. If another caller got to the cell first
// (its compare-and-swap fails), the salt moves on so that the two callers
// likely map to different cells from now on.
func (c *turnCells) take() uint32 {
	salt := c.salt.Load()
	n := &c.c[cell(salt)].n
	x := n.Load()
	if n.CompareAndSwap(x, x+1) {
		return uint32(x + 1)
	}
	c.salt.CompareAndSwap(salt, salt+1)
	return uint32(n.Add(1))
}

// picks adds to count[j] how many of the turns handed out so far were
// j modulo len(count) (as 32-bit turns: what the picker's modulus reads):
// the picks of each position, exactly, from the counters alone.
func (t *turns) picks(count []uint64) {
	n := uint64(len(count))
	if n == 0 {
		return
	}
	// The shared counter's run, then each cell's: disjoint sets of picks
	// (callers that read no cells yet may advance one past the cells' base).
	addRun(count, n, t.first, t.one.Load())
	if c := t.cells.Load(); c != nil {
		for i := range c.c {
			addRun(count, n, c.base+uint64(i), c.c[i].n.Load())
		}
	}
}

// addRun adds the turns a+1 … b (64-bit counter values, taken as 32-bit
// turns) to count by residue modulo n.
func addRun(count []uint64, n, a, b uint64) {
	if b <= a {
		return
	}
	lo, hi := a+1, b // inclusive
	const period = 1 << 32
	if lo>>32 == hi>>32 {
		addSpan(count, n, lo&(period-1), hi&(period-1))
		return
	}
	addSpan(count, n, lo&(period-1), period-1)
	if full := hi>>32 - lo>>32 - 1; full > 0 {
		for j := range count {
			count[j] += full * below(period, uint64(j), n)
		}
	}
	addSpan(count, n, 0, hi&(period-1))
}

// addSpan adds the integers lo … hi (inclusive, lo ≤ hi < 1<<32) by residue.
func addSpan(count []uint64, n, lo, hi uint64) {
	for j := range count {
		count[j] += below(hi+1, uint64(j), n) - below(lo, uint64(j), n)
	}
}

// below counts the integers in [0, y) that are j modulo n (j < n).
func below(y, j, n uint64) uint64 {
	k := y / n
	if y%n > j {
		k++
	}
	return k
}

// cell picks the calling goroutine's cell by where its stack lies: free to
// read, unlike a P or goroutine ID, and different for goroutines running at
// once. A stack that moves as it grows just uses another cell.
func cell(salt uint64) uint32 { return uint32(stripe.Of(salt, turnBits)) }
