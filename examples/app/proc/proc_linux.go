package proc

import "syscall"

// sysProcAttr puts the child in its own process group (so a signal reaches
// whatever it starts) and asks the kernel to SIGKILL it when the parent
// dies, however it dies (Pdeathsig).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func signalGroup(pid int, sig syscall.Signal) { _ = syscall.Kill(-pid, sig) }
