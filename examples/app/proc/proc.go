// Package proc runs the roles of a multi-process example as child
// processes of the same binary: the parent re-executes itself with a role in
// the environment, the child serves on a loopback port and announces its
// address on stdout, and the parent waits for that line (bounded), can
// SIGKILL or SIGTERM the child and start it again on the same port, and
// stops every child it started on Close, on Ctrl-C (the caller's
// signal.NotifyContext) and, on Linux, when the parent itself dies (each
// child is its own process group with a parent-death signal), so a run
// leaves nothing behind.
//
// A program using it calls Role first thing in main (and in TestMain, for
// a test that runs the example in-process): a non-empty role means "I am a
// child; serve that role".
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Environment variables a child reads.
const (
	EnvRole = "LADDER_EXAMPLE_ROLE" // the role to serve
	EnvAddr = "LADDER_EXAMPLE_ADDR" // the address to listen on (host:port)
)

// readyPrefix starts the line a child prints on stdout once it listens.
const readyPrefix = "ladder-ready "

// ErrInvalidOptions wraps bad arguments.
var ErrInvalidOptions = errors.New("proc: invalid options")

// Role returns this process's role, "" in the parent.
func Role() string { return os.Getenv(EnvRole) }

// Listen listens on addr ("" means 127.0.0.1:0, a free port). If addr's port
// is taken it falls back to a free port on the same host and reports it
// (moved): a port in use is never fatal. Only loopback hosts are accepted.
func Listen(addr string) (ln net.Listener, moved bool, err error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, false, fmt.Errorf("%w: address %q: %v", ErrInvalidOptions, addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, false, fmt.Errorf("%w: address %q: examples listen on loopback only", ErrInvalidOptions, addr)
	}
	ln, err = net.Listen("tcp", addr)
	if err == nil {
		return ln, false, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, false, fmt.Errorf("proc: listen %s: %w", addr, err)
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, false, fmt.Errorf("proc: listen %s: %w", host, err)
	}
	return ln, true, nil
}

// ChildListen is Listen on the address the parent gave (EnvAddr), for a
// child; it then announces the address it got to the parent.
func ChildListen() (net.Listener, error) {
	ln, _, err := Listen(os.Getenv(EnvAddr))
	if err != nil {
		return nil, err
	}
	Announce(ln.Addr().String())
	return ln, nil
}

// Announce tells the parent the child is ready at addr (one line on stdout).
func Announce(addr string) { fmt.Fprintln(os.Stdout, readyPrefix+addr) }

// Options configure a Group.
type Options struct {
	// Stderr receives the children's stderr and their stdout after the
	// ready line, each line prefixed with the child's name; nil discards it.
	Stderr io.Writer
	// ReadyTimeout bounds the wait for a child's ready line; 0 means 10 s.
	ReadyTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL;
	// 0 means 5 s.
	StopTimeout time.Duration
}

// Group owns the children it started.
type Group struct {
	opts Options
	exe  string

	mu       sync.Mutex
	children []*Child
	closed   bool
}

// NewGroup returns a Group that starts children of the running executable.
func NewGroup(opts Options) (*Group, error) {
	if opts.ReadyTimeout < 0 || opts.StopTimeout < 0 {
		return nil, fmt.Errorf("%w: ReadyTimeout %v, StopTimeout %v: must be ≥ 0", ErrInvalidOptions, opts.ReadyTimeout, opts.StopTimeout)
	}
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 5 * time.Second
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	// Every child's output copier writes here: one lock for them all.
	opts.Stderr = &lockedWriter{w: opts.Stderr}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("proc: own executable: %w", err)
	}
	return &Group{opts: opts, exe: exe}, nil
}

// Spec describes a child.
type Spec struct {
	Name string   // for messages and the output prefix
	Role string   // set as EnvRole
	Addr string   // the address to ask for; "" a free loopback port
	Args []string // command-line arguments
	Env  []string // added to the parent's environment ("K=V")
}

// Child is one started child process.
type Child struct {
	g    *Group
	spec Spec

	mu   sync.Mutex
	cmd  *exec.Cmd
	addr string
	done chan struct{} // closed when the current process has exited
	err  error         // its exit error
}

// Start starts a child and waits until it announces its address (bounded by
// ReadyTimeout and ctx). A child that exits or stays silent is an error
// naming it, with the end of its output.
func (g *Group) Start(ctx context.Context, spec Spec) (*Child, error) {
	if spec.Role == "" {
		return nil, fmt.Errorf("%w: Spec.Role: empty", ErrInvalidOptions)
	}
	if spec.Name == "" {
		spec.Name = spec.Role
	}
	c := &Child{g: g, spec: spec}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, errors.New("proc: group closed")
	}
	g.children = append(g.children, c)
	g.mu.Unlock()
	if err := c.start(ctx, spec.Addr); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Child) start(ctx context.Context, addr string) error {
	g := c.g
	cmd := exec.Command(g.exe, c.spec.Args...)
	cmd.Env = append(os.Environ(), c.spec.Env...)
	cmd.Env = append(cmd.Env, EnvRole+"="+c.spec.Role, EnvAddr+"="+addr)
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("proc: %s: %w", c.spec.Name, err)
	}
	tail := &tailWriter{w: &prefixWriter{w: g.opts.Stderr, prefix: "[" + c.spec.Name + "] "}}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("proc: start %s: %w", c.spec.Name, err)
	}
	done := make(chan struct{})
	ready := make(chan string, 1)
	go func() { // owned: ends when the child's stdout closes (it exits or is killed)
		sc := bufio.NewScanner(stdout)
		announced := false
		for sc.Scan() {
			line := sc.Text()
			if a, ok := strings.CutPrefix(line, readyPrefix); ok && !announced {
				announced = true
				ready <- a
				continue
			}
			fmt.Fprintln(tail, line)
		}
		err := cmd.Wait()
		c.mu.Lock()
		c.err = err
		c.mu.Unlock()
		close(done)
	}()
	c.mu.Lock()
	c.cmd, c.done = cmd, done
	c.mu.Unlock()

	t := time.NewTimer(g.opts.ReadyTimeout)
	defer t.Stop()
	select {
	case a := <-ready:
		c.mu.Lock()
		c.addr = a
		c.mu.Unlock()
		return nil
	case <-done:
		return fmt.Errorf("proc: %s exited before it was ready (%v): %s", c.spec.Name, c.exitErr(), tail.last())
	case <-t.C:
		c.Kill()
		return fmt.Errorf("proc: %s not ready within %v: %s", c.spec.Name, g.opts.ReadyTimeout, tail.last())
	case <-ctx.Done():
		c.Kill()
		return ctx.Err()
	}
}

func (c *Child) exitErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Name returns the child's name.
func (c *Child) Name() string { return c.spec.Name }

// Addr returns the address the child listens on (host:port).
func (c *Child) Addr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addr
}

// URL returns "http://" + Addr().
func (c *Child) URL() string { return "http://" + c.Addr() }

// Pid returns the current process's id.
func (c *Child) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd.Process.Pid
}

// Done is closed when the current process exits.
func (c *Child) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.done
}

// Kill sends SIGKILL to the child's process group (a crash: no cleanup
// runs) and waits until it has exited.
func (c *Child) Kill() error {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil || exited(done) {
		return nil // never signal a reaped pid: it may belong to another process by now
	}
	signalGroup(cmd.Process.Pid, syscall.SIGKILL)
	<-done
	return nil
}

func exited(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM (a graceful stop: the child drains) and waits up to
// StopTimeout, then SIGKILLs. It returns an error if SIGKILL was needed.
func (c *Child) Stop() error {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.mu.Unlock()
	if cmd == nil || cmd.Process == nil || exited(done) {
		return nil
	}
	signalGroup(cmd.Process.Pid, syscall.SIGTERM)
	t := time.NewTimer(c.g.opts.StopTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		signalGroup(cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return fmt.Errorf("proc: %s ignored SIGTERM for %v; killed", c.spec.Name, c.g.opts.StopTimeout)
	}
}

// Restart starts the child again (after Kill or Stop, or after it died)
// asking for the same address, so its clients find it where it was. If the
// port was taken meanwhile it gets another one: check Addr.
func (c *Child) Restart(ctx context.Context) error {
	select {
	case <-c.Done():
	default:
		return fmt.Errorf("proc: restart %s: still running; Kill or Stop it first", c.spec.Name)
	}
	return c.start(ctx, c.Addr())
}

// Close kills every child still running and waits for them.
func (g *Group) Close() error {
	g.mu.Lock()
	g.closed = true
	children := g.children
	g.children = nil
	g.mu.Unlock()
	for _, c := range children {
		c.Kill()
	}
	return nil
}

// lockedWriter serialises the writes of several children's copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	mid    bool
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []byte
	for _, c := range b {
		if !p.mid {
			out = append(out, p.prefix...)
			p.mid = true
		}
		out = append(out, c)
		if c == '\n' {
			p.mid = false
		}
	}
	_, err := p.w.Write(out)
	return len(b), err
}

// tailWriter passes writes on and keeps the last 2 KiB for error messages.
type tailWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2048 {
		t.buf = t.buf[len(t.buf)-2048:]
	}
	t.mu.Unlock()
	return t.w.Write(b)
}

func (t *tailWriter) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return "(no output)"
	}
	return s
}
