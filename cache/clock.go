package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// now is nanoseconds since the cache was built: the coarse clock when it
// runs, else the monotonic clock (time.Since skips the wall-clock read
// time.Now pays for).
func (a *Aside[K, V]) now() int64 {
	if c := a.clk; c != nil {
		if t := c.t.Load(); t != 0 {
			if !c.used.Load() { // read-mostly: no cache-line ping-pong between cores
				c.used.Store(true)
			}
			return t
		}
		select { // the coarse clock is parked: restart it
		case c.wake <- struct{}{}:
		default:
		}
	}
	return a.exactNow()
}

// exactNow ignores the coarse clock: load durations (XFetch's δ) need it.
func (a *Aside[K, V]) exactNow() int64 {
	if a.opts.Now != nil {
		return int64(a.opts.Now().Sub(a.base))
	}
	return int64(time.Since(a.base))
}

// nowIfZero returns now, or reads the clock if the caller has not (now == 0).
func (a *Aside[K, V]) nowIfZero(now int64) int64 {
	if now == 0 {
		return a.now()
	}
	return now
}

// window is how many ticks the coarse clock judges its use over: it parks
// unless it was read in at least half of them. A tick costs a timer wake-up
// (a microsecond or more of CPU) and saves ~25 ns per read, so ticking pays
// only for caches read about once a tick or more.
const window = 16

// coarseClock is a ticker-driven clock that ticks while the cache is read
// about once a tick or more and parks (t = 0, no timer) otherwise, so an
// idle cache costs no wake-ups and a sparsely read one few. Its
// goroutine holds the clock, never the Aside, so an Aside dropped without
// Close is still collected and a cleanup then stops the goroutine.
type coarseClock struct {
	base  time.Time
	t     atomic.Int64 // ns since base; 0 when parked or stopped
	used  atomic.Bool  // t was read since the last tick
	wake  chan struct{}
	ticks atomic.Int64 // timer wake-ups, for tests
	stop  chan struct{}
	once  sync.Once
	done  chan struct{} // closed when the goroutine has exited
}

// startClock starts a coarse clock ticking every res from base.
func startClock(base time.Time, res time.Duration) *coarseClock {
	c := &coarseClock{base: base, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.run(res)
	return c
}

func (c *coarseClock) run(res time.Duration) {
	defer close(c.done)
	defer c.t.Store(0) // stopped: readers use the real clock again
	for {
		c.t.Store(max(1, int64(time.Since(c.base))))
		if !c.tick(res) {
			return
		}
		c.t.Store(0)
		if !c.parked(res) {
			return
		}
	}
}

// parked waits until reads come faster than one per tick (true) or the
// clock is stopped (false). A read while parked sends a wake; the clock
// restarts only if another read sends one within a tick of it, so sparse
// reads (which read the exact clock) cost one timer each.
func (c *coarseClock) parked(res time.Duration) bool {
	t := time.NewTimer(res)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return false
		case <-c.wake:
		}
		t.Reset(res)
		select {
		case <-c.stop:
			return false
		case <-t.C:
			c.ticks.Add(1)
		}
		select {
		case <-c.wake: // a second read within the tick
			return true
		default:
		}
	}
}

// tick advances the clock while it is read in at least half the ticks of
// each window; it returns true when it should park, false once stopped.
func (c *coarseClock) tick(res time.Duration) bool {
	t := time.NewTicker(res)
	defer t.Stop()
	for {
		used := 0
		for range window {
			select {
			case <-c.stop:
				return false
			case <-t.C:
			}
			c.ticks.Add(1)
			c.t.Store(max(1, int64(time.Since(c.base))))
			if c.used.Swap(false) {
				used++
			}
		}
		if used < window/2 {
			return true
		}
	}
}

// close stops the clock and waits for its goroutine. It is idempotent.
func (c *coarseClock) close() {
	c.once.Do(func() { close(c.stop) })
	<-c.done
}
