//go:build !unix

package stage

// processAlive cannot tell here: every process may still run, so nothing
// is removed.
func processAlive(int) bool { return true }
