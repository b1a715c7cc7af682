package edgetest

import (
	"sync"
	"time"
)

// Clock is a manual clock shared by an in-process cache (its Options.Now) and
// the [Origin]: time stands still until Advance. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d (d ≤ 0 does nothing).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Start is the instant in-process targets start their clocks at: a fixed,
// whole-second time so HTTP-dates round-trip exactly.
var Start = time.Date(2026, time.January, 2, 3, 4, 5, 0, time.UTC)
