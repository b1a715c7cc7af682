package cachetest

import (
	"sync"
	"time"
)

// Clock is a manual clock for cache.Options.Now: time stands still until
// Advance. Safe for concurrent use. For tests of your own code that uses a
// cache; ladder's tests use testing/synctest instead.
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

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
