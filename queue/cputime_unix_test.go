//go:build unix

package queue

import "syscall"

// cpuTime is the process's user+system CPU time in ns, so that benchmarks
// on a shared machine can report CPU per job, which others' load does not
// inflate as it inflates wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
