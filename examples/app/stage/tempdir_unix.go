//go:build unix

package stage

import (
	"errors"
	"syscall"
)

// processAlive reports whether pid may still run: signal 0 reaches it, or
// it exists under another user (EPERM).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
