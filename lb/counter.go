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
type turns struct {
	one   atomic.Uint32
	cells atomic.Pointer[turnCells]
}

// turnCells are the cells of a spread counter. Goroutines map to cells by
// their stack address mixed with salt; a caller that finds its cell
// contended changes the salt, remapping every goroutine, so two goroutines
// that keep running at once (a worker pool) do not stay stuck on one cell.
type turnCells struct {
	salt atomic.Uint64
	_    [56]byte
	c    [turnCellCount]turnCell
}

type turnCell struct {
	n atomic.Uint32
	_ [60]byte
}

const (
	turnBits      = 4
	turnCellCount = 1 << turnBits
)

// start sets the counter so that the next turn is first+1.
func (t *turns) start(first uint32) { t.one.Store(first) }

// next returns the next turn of the calling goroutine's cycle.
func (t *turns) next() uint32 {
	if c := t.cells.Load(); c != nil {
		return c.take()
	}
	x := t.one.Load()
	if t.one.CompareAndSwap(x, x+1) {
		return x + 1
	}
	return t.spread()
}

// spread moves the counter to cells, once: cell i starts where the shared
// counter was, plus i, so the cells' cycles are staggered.
func (t *turns) spread() uint32 {
	c := new(turnCells)
	base := t.one.Load()
	for i := range c.c {
		c.c[i].n.Store(base + uint32(i))
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
		return x + 1
	}
	c.salt.CompareAndSwap(salt, salt+1)
	return n.Add(1)
}

// cell picks the calling goroutine's cell by where its stack lies: free to
// read, unlike a P or goroutine ID, and different for goroutines running at
// once. A stack that moves as it grows just uses another cell.
func cell(salt uint64) uint32 { return uint32(stripe.Of(salt, turnBits)) }
