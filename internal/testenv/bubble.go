package testenv

import (
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
)

// Bubble runs f in a synctest bubble, like [synctest.Test]. Every package's tests use it
// instead of synctest.Test.
//
// Under the race detector it holds GOMAXPROCS at 1 while f runs. Go's race runtime gives
// all the timers of a bubble one race context, and two threads firing bubble timers at the
// same moment corrupt it: the test binary dies with "ThreadSanitizer: CHECK failed" or a
// SIGSEGV in runtime.(*timer).maybeRunChan (golang/go#78156, open as of Go 1.26.8; it
// crashed a CI run and reproduces in seconds with 200 probers in one bubble). With one P,
// one thread runs Go code at a time. Without -race, f runs as synctest.Test runs it.
func Bubble(t *testing.T, f func(*testing.T)) {
	t.Helper()
	if raceEnabled {
		defer oneProc()()
	}
	synctest.Test(t, f)
}

var procs struct {
	sync.Mutex
	users, saved int
}

// oneProc sets GOMAXPROCS to 1 until the returned func is called; overlapping (parallel)
// callers share it, and the last one restores the old value.
func oneProc() (release func()) {
	procs.Lock()
	defer procs.Unlock()
	if procs.users == 0 {
		procs.saved = runtime.GOMAXPROCS(1)
	}
	procs.users++
	return func() {
		procs.Lock()
		defer procs.Unlock()
		if procs.users--; procs.users == 0 {
			runtime.GOMAXPROCS(procs.saved)
		}
	}
}
