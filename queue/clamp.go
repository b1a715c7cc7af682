package queue

import "time"

// Times the int64 nanosecond forms can hold: time.Time.UnixNano is
// undefined outside 1677…2262, and a Delay, UniqueFor, Timeout or Lease of
// up to the largest time.Duration reaches past that.
var (
	maxUnixNanoTime = time.Unix(0, maxInt64)
	minUnixNanoTime = time.Unix(0, -maxInt64-1)
)

// unixNano is t.UnixNano saturated to the int64 range, so that a time
// past 2262 stays later than every other, not earlier.
func unixNano(t time.Time) int64 {
	switch {
	case t.After(maxUnixNanoTime):
		return maxInt64
	case t.Before(minUnixNanoTime):
		return -maxInt64 - 1
	}
	return t.UnixNano()
}

// addNs is ns+d saturated to the int64 range (a huge Timeout or Lease
// means "far away", not "long ago").
func addNs(ns int64, d time.Duration) int64 {
	s := ns + int64(d)
	if d > 0 && s < ns {
		return maxInt64
	}
	if d < 0 && s > ns {
		return -maxInt64 - 1
	}
	return s
}
