package queuetest

import (
	"sync"
	"time"
)

// Epoch is where a Clock starts when it is not set: a fixed instant, so
// that tests print the same times on every run.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// Clock is a fake clock for delays, retries and schedules: plug its Now
// into queue.MemoryOptions.Now, queue.ClientOptions.Now and
// queue.WorkerOptions.Now, then Advance it. The zero value starts at Epoch
// and is safe for concurrent use.
//
// A Clock only moves when told to: a Memory's delayed jobs become ready at
// the first Fetch after Advance passes their RunAt (a Worker idle in Wait
// fetches again within its PollInterval, measured on the real clock).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading start (Epoch when start is zero).
func NewClock(start time.Time) *Clock {
	c := &Clock{}
	c.Set(start)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = Epoch
	}
	return c.t
}

// Advance moves the clock forward by d (back for a negative d) and returns
// the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = Epoch
	}
	c.t = c.t.Add(d)
	return c.t
}

// Set moves the clock to t (Epoch when t is zero).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.IsZero() {
		t = Epoch
	}
	c.t = t
}
