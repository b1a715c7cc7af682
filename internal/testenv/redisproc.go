package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisProcess is a private redis-server owned by one test, for fault tests
// that stop and restart the server. It listens on 127.0.0.1 and keeps no data
// across a restart (no persistence), as a crashed cache server would, unless
// StartRedisWith turned persistence on.
type RedisProcess struct {
	Addr string // 127.0.0.1:port, the same across Stop and Start

	t    testing.TB
	dir  string
	port int
	args []string // extra redis-server arguments
	// cmdArgs, if set, are the whole command line instead (a sentinel).
	cmdArgs []string

	mu  sync.Mutex
	cmd *exec.Cmd
	log bytes.Buffer
}

// StartRedis starts a private redis-server on a free loopback port and stops
// it when the test ends. It needs the redis-server binary (Debian package
// redis-server); without it the test skips, or fails under LADDER_INTEGRATION=required.
func StartRedis(t testing.TB) *RedisProcess {
	t.Helper()
	return startRedis(t)
}

// StartRedisWith starts a private redis-server as StartRedis does, with
// extra redis-server arguments after the defaults, which they override: with
// "--appendonly", "yes", "--appendfsync", "always" the server keeps every
// acknowledged write across Stop (a crash) and Start, as a durable Redis
// does.
func StartRedisWith(t testing.TB, args ...string) *RedisProcess {
	t.Helper()
	return startRedis(t, args...)
}

// startRedis starts a private redis-server with extra arguments.
func startRedis(t testing.TB, args ...string) *RedisProcess {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		unavailable(t, "redis-server is not on PATH (Debian package redis-server)")
	}
	port, err := FreePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	p := &RedisProcess{t: t, dir: t.TempDir(), port: port, args: args,
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	t.Cleanup(p.Stop)
	p.Start()
	return p
}

// Start starts the server if it is stopped and waits until it accepts connections.
func (p *RedisProcess) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	args := p.cmdArgs
	if args == nil {
		args = append([]string{"--port", strconv.Itoa(p.port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", p.dir, "--daemonize", "no"}, p.args...)
	}
	cmd := exec.Command("redis-server", args...)
	p.log.Reset()
	cmd.Stdout, cmd.Stderr = &p.log, &p.log
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("testenv: starting redis-server: %v", err)
	}
	p.cmd = cmd
	if err := waitTCP(p.Addr, 10*time.Second); err != nil {
		p.stopLocked()
		p.t.Fatalf("testenv: redis-server on %s did not start: %v\n%s", p.Addr, err, p.log.String())
	}
	// FreePort's port may have been taken between its check and our bind: make sure the
	// server answering is ours, not another test's, before anyone uses it.
	if pid, err := serverPID(p.Addr); err != nil || pid != cmd.Process.Pid {
		p.stopLocked()
		p.t.Fatalf("testenv: %s answers as process %d (%v), not our redis-server %d: the port was taken\n%s",
			p.Addr, pid, err, cmd.Process.Pid, p.log.String())
	}
}

// serverPID asks the Redis server (or sentinel) at addr for its process ID.
func serverPID(addr string) (int, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("INFO server has no process_id")
}

// Stop kills the server (SIGKILL: a crash, not a clean shutdown) and waits
// for it to exit. Stopping a stopped server does nothing.
func (p *RedisProcess) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopLocked()
}

func (p *RedisProcess) stopLocked() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
	p.cmd = nil
}

// Freeze stops the server with SIGSTOP: it keeps its connections open and
// answers nothing, as a hung server (a stalled disk, a swap storm) does.
// Thaw resumes it; Stop kills it frozen or not. Freezing a stopped server
// does nothing.
func (p *RedisProcess) Freeze() { p.signal(syscall.SIGSTOP) }

// Thaw resumes a server stopped by Freeze.
func (p *RedisProcess) Thaw() { p.signal(syscall.SIGCONT) }

func (p *RedisProcess) signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for a server
// a test starts. It is drawn below the kernel's ephemeral range (as scripts/servers.sh
// does), where no outgoing connection can take it as its source port before the server
// binds it; the kernel's own choice (port 0) would come from that range.
func FreePort() (int, error) {
	limit := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil && lo > 13000 {
				limit = lo
			}
		}
	}
	for range 100 {
		p := 12000 + mrand.IntN(limit-12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTCP waits until addr accepts a TCP connection.
func waitTCP(addr string, limit time.Duration) error {
	return poll(limit, 10*time.Millisecond, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		return err
	})
}

// poll calls check every interval until it returns nil or limit has passed, and
// returns its last error.
func poll(limit, interval time.Duration, check func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(interval)
	}
}
