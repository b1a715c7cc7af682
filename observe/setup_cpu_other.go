//go:build !unix

package observe

// cpuTime is not reported on this platform.
func cpuTime() (user, system float64, ok bool) { return 0, 0, false }
