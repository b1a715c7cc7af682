package cache

import "time"

// now is nanoseconds since the cache was built on the monotonic clock
// (time.Since skips the wall-clock read time.Now pays for), or the coarse
// clock when one runs.
func (a *Aside[K, V]) now() int64 {
	if t := a.coarse.Load(); t != 0 {
		return t
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

// startClock runs the coarse clock until Close.
func (a *Aside[K, V]) startClock(res time.Duration) {
	a.coarse.Store(max(1, a.exactNow()))
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		t := time.NewTicker(res)
		defer t.Stop()
		for {
			select {
			case <-a.done.Done():
				return
			case <-t.C:
				a.coarse.Store(max(1, a.exactNow()))
			}
		}
	}()
}

// nowIfZero returns now, or reads the clock if the caller has not (now == 0).
func (a *Aside[K, V]) nowIfZero(now int64) int64 {
	if now == 0 {
		return a.now()
	}
	return now
}
