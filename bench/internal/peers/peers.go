// Package peers starts the shared caches ladder's edge is measured against
// (nginx proxy_cache, Varnish, Squid, Apache Traffic Server, all from
// Debian) as private processes in a temporary directory on loopback, for
// cmd/edgebench and cmd/cacheconf. Each config is written out here, with
// every non-default setting justified where it is set.
package peers

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tools maps a binary to the Debian package that ships it.
var Tools = map[string]string{
	"nginx":          "nginx",
	"varnishd":       "varnish",
	"squid":          "squid",
	"traffic_server": "trafficserver",
	"wrk":            "wrk",
	"taskset":        "util-linux",
	"haproxy":        "haproxy",
	"caddy":          "caddy",
}

// Ensure installs the Debian packages for the binaries that are missing,
// when run as root (as cmd/proxybench does), and returns the binaries
// still missing.
func Ensure(bins ...string) map[string]bool {
	missing := map[string]bool{}
	var pkgs []string
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			missing[b] = true
			pkgs = append(pkgs, Tools[b])
		}
	}
	if len(pkgs) == 0 || os.Geteuid() != 0 {
		return missing
	}
	apt := func(args ...string) error {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	install := append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)
	if err := apt(install...); err != nil {
		// A fresh machine has no package lists yet: update once and retry.
		if err = apt("update", "-qq"); err == nil {
			err = apt(install...)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers: apt-get install", pkgs, ":", err)
		}
	}
	for _, b := range bins {
		if _, err := exec.LookPath(b); err == nil {
			delete(missing, b)
		}
	}
	return missing
}

// RaiseFDLimit lifts the soft open-file limit to the hard one; calling
// Setrlimit also makes Go hand the raised limit to child processes.
func RaiseFDLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// Procs owns the processes a benchmark starts: Stop ends each one (SIGTERM,
// then SIGKILL after a grace period); Pdeathsig kills them if we die.
type Procs struct {
	mu    sync.Mutex
	procs []*Proc
	dirs  []string // removed by Stop, after the processes
}

// RemoveOnStop has Stop remove dir (and what is in it) after the processes end.
func (ps *Procs) RemoveOnStop(dir string) {
	ps.mu.Lock()
	ps.dirs = append(ps.dirs, dir)
	ps.mu.Unlock()
}

// Proc is one started process.
type Proc struct {
	Cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Start starts name with args; its output goes to our stderr.
func (ps *Procs) Start(name string, args ...string) (*Proc, error) {
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	ps.mu.Lock()
	ps.procs = append(ps.procs, p)
	ps.mu.Unlock()
	return p, nil
}

// Exited reports whether p has exited, and how.
func (p *Proc) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Stop ends p: SIGTERM, then SIGKILL after grace.
func (p *Proc) Stop(grace time.Duration) {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// StopOnSignal has an interrupt or SIGTERM stop every process and remove
// the temp dirs before the program exits (status 130).
func (ps *Procs) StopOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		ps.Stop()
		os.Exit(130)
	}()
}

// Stop ends every process still running, last started first.
func (ps *Procs) Stop() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i := len(ps.procs) - 1; i >= 0; i-- {
		ps.procs[i].Stop(5 * time.Second)
	}
	ps.procs = nil
	for _, d := range ps.dirs {
		_ = os.RemoveAll(d)
	}
	ps.dirs = nil
}

// FreeAddr returns a loopback address nobody listens on (yet).
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitTCP waits until addr accepts connections, or p exits, or 20s pass.
func WaitTCP(addr string, p *Proc) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if p != nil {
			if exited, perr := p.Exited(); exited {
				return fmt.Errorf("exited before listening: %v", perr)
			}
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pin returns the command line that runs name with args on the given CPU
// list (taskset), or unchanged if cpus is "".
func Pin(cpus, name string, args ...string) (string, []string) {
	if cpus == "" {
		return name, args
	}
	return "taskset", append([]string{"-c", cpus, name}, args...)
}

// CacheDir returns a fresh directory for a cache's files, on tmpfs
// (/dev/shm) when it is there so disk caches are not measured on a disk.
func CacheDir(pattern string) (string, error) {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", pattern); err == nil {
			return d, nil
		}
	}
	return os.MkdirTemp("", pattern)
}

// HostPort splits addr, for configs that want them apart.
func HostPort(addr string) (host, port string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	return h, p
}

var errMissing = errors.New("not installed")

// Missing is the error for a peer whose binary is not installed.
func Missing(bin string) error {
	return fmt.Errorf("%s %w (Debian package %s)", bin, errMissing, Tools[bin])
}

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func execLook(bin string) (string, error) { return exec.LookPath(bin) }
