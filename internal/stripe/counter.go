package stripe

import "sync/atomic"

// Counter is a counter bumped on a hot path by every core (a cache's hits,
// an edge cache's hits): its cells sit on separate cache lines and each
// goroutine adds to its own (Of), so cores counting at once do not pass one
// line between them. When two goroutines do share a cell (a failed
// compare-and-swap tells), the salt moves on, remapping every goroutine, so
// two long-lived workers do not stay stuck on one line. Load sums the cells:
// exact once the adds it races with have returned. The zero value is ready.
type Counter struct {
	salt atomic.Uint64
	_    [56]byte
	c    [counterCells]struct {
		n atomic.Int64
		_ [56]byte
	}
}

const (
	counterBits  = 5
	counterCells = 1 << counterBits // 2 KiB per counter
)

// Add adds n on the calling goroutine's cell.
func (c *Counter) Add(n int64) {
	salt := c.salt.Load()
	cell := &c.c[Of(salt, counterBits)].n
	if x := cell.Load(); cell.CompareAndSwap(x, x+n) {
		return
	}
	c.salt.CompareAndSwap(salt, salt+1)
	cell.Add(n)
}

// Load returns the sum of the cells.
func (c *Counter) Load() int64 {
	var t int64
	for i := range c.c {
		t += c.c[i].n.Load()
	}
	return t
}
