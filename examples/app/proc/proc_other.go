//go:build !unix

package proc

import (
	"os"
	"syscall"
)

// sysProcAttr: no process groups here; Close still kills every child.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(pid int, _ syscall.Signal) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}
