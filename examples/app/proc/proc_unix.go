//go:build unix && !linux

package proc

import "syscall"

// sysProcAttr puts the child in its own process group. Without Linux's
// Pdeathsig a parent killed by SIGKILL leaves its children running; Close
// and Ctrl-C still stop them.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func signalGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
