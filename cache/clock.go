package cache

import "time"

// now is nanoseconds since the cache was built: the coarse clock when it
// runs, else the monotonic clock (time.Since skips the wall-clock read
// time.Now pays for).
func (a *Aside[K, V]) now() int64 {
	if t := a.coarse.Load(); t != 0 {
		if !a.used.Load() { // read-mostly: no cache-line ping-pong between cores
			a.used.Store(true)
		}
		return t
	}
	if a.wake != nil {
		select { // the coarse clock is parked: restart it
		case a.wake <- struct{}{}:
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

// idleTicks is how many ticks without a read park the coarse clock.
const idleTicks = 100

// startClock runs the coarse clock until Close: it ticks while the cache is
// read and parks (coarse = 0, no timer) once idle, so an idle cache costs
// no wake-ups.
func (a *Aside[K, V]) startClock(res time.Duration) {
	a.wake = make(chan struct{}, 1)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		for {
			a.coarse.Store(max(1, a.exactNow()))
			if !a.tick(res) {
				return
			}
			a.coarse.Store(0)
			select {
			case <-a.done.Done():
				return
			case <-a.wake:
			}
		}
	}()
}

// tick advances the coarse clock until idleTicks pass unread (true) or the
// cache closes (false).
func (a *Aside[K, V]) tick(res time.Duration) bool {
	t := time.NewTicker(res)
	defer t.Stop()
	for idle := 0; idle < idleTicks; {
		select {
		case <-a.done.Done():
			return false
		case <-t.C:
		}
		a.coarse.Store(max(1, a.exactNow()))
		if a.used.Swap(false) {
			idle = 0
		} else {
			idle++
		}
	}
	return true
}
