package testenv

import (
	"fmt"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// fatalTB records Fatalf and ends the calling goroutine, as testing does,
// so a test can check how a helper fails.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// startOn runs Start for a private redis-server on addr's port and returns
// how it failed ("" if it did not).
func startOn(t *testing.T, addr string) string {
	t.Helper()
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	f := &fatalTB{TB: t}
	p := &RedisProcess{t: f, dir: t.TempDir(), port: port, Addr: addr}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Start()
	}()
	<-done
	p.Stop()
	return f.msg
}

// A port another test's redis-server took between FreePort and our bind
// fails Start clearly instead of handing this test that server.
func TestRedisProcessPortTakenByAnotherServer(t *testing.T) {
	t.Parallel()
	other := StartRedis(t)
	msg := startOn(t, other.Addr)
	if !strings.Contains(msg, "the port was taken") {
		t.Fatalf("Start on a taken port: %q", msg)
	}
	other.Stop() // the other server is untouched: it still restarts and answers as itself
	other.Start()
}

// A port taken by something that accepts and never answers fails Start too;
// it does not hang.
func TestRedisProcessPortTakenBySilentListener(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits out a read timeout")
	}
	StartRedis(t) // skips without redis-server
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	msg := startOn(t, ln.Addr().String())
	if !strings.Contains(msg, "the port was taken") {
		t.Fatalf("Start on a silent listener: %q", msg)
	}
	ln.Close()
	for c := range conns {
		c.Close()
	}
}

// The sentinel answers INFO server with its own process ID too, before and
// after a restart.
func TestSentinelProcessRestarts(t *testing.T) {
	t.Parallel()
	s := StartSentinel(t)
	for _, p := range []*RedisProcess{s.Master, s.Replica} {
		p.Stop()
		p.Start()
	}
	// The sentinel's own process, found through its address.
	pid, err := serverPID(s.Addr)
	if err != nil || pid <= 0 {
		t.Fatalf("sentinel process_id %d, %v", pid, err)
	}
}
