package proc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
)

func newGroup(t *testing.T, opts proc.Options) *proc.Group {
	t.Helper()
	g, err := proc.NewGroup(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

func get(t *testing.T, url string) (string, error) {
	t.Helper()
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestChildIsKilledAndRestartedOnItsPort(t *testing.T) {
	g := newGroup(t, proc.Options{})
	c, err := g.Start(context.Background(), proc.Spec{Name: "web", Role: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.Addr()
	if body, err := get(t, c.URL()); err != nil || body != "pid "+strconv.Itoa(c.Pid()) {
		t.Fatalf("child answers %q, %v", body, err)
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if _, err := get(t, c.URL()); err == nil {
		t.Fatal("a killed child still answers")
	}
	if err := c.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c.Addr() != addr {
		t.Fatalf("restarted on %s, was %s", c.Addr(), addr)
	}
	if _, err := get(t, c.URL()); err != nil {
		t.Fatalf("restarted child: %v", err)
	}
	if err := c.Restart(context.Background()); err == nil {
		t.Fatal("Restart of a running child accepted")
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

func TestChildThatExitsEarlyNamesItsError(t *testing.T) {
	g := newGroup(t, proc.Options{})
	_, err := g.Start(context.Background(), proc.Spec{Name: "db", Role: "exit"})
	if err == nil || !strings.Contains(err.Error(), "db exited") || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("error %v: want the child's name and its last words", err)
	}
}

func TestSilentChildTimesOut(t *testing.T) {
	g := newGroup(t, proc.Options{ReadyTimeout: 300 * time.Millisecond})
	_, err := g.Start(context.Background(), proc.Spec{Role: "silent"})
	if err == nil || !strings.Contains(err.Error(), "not ready within") {
		t.Fatalf("error %v, want a ready timeout", err)
	}
}

func TestStopKillsAChildIgnoringSIGTERM(t *testing.T) {
	g := newGroup(t, proc.Options{StopTimeout: 200 * time.Millisecond})
	c, err := g.Start(context.Background(), proc.Spec{Role: "stubborn"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err == nil || !strings.Contains(err.Error(), "ignored SIGTERM") {
		t.Fatalf("Stop: %v", err)
	}
	<-c.Done()
}

func TestCloseStopsEveryChild(t *testing.T) {
	g := newGroup(t, proc.Options{})
	var cs []*proc.Child
	for range 2 {
		c, err := g.Start(context.Background(), proc.Spec{Role: "echo"})
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	g.Close()
	for _, c := range cs {
		select {
		case <-c.Done():
		default:
			t.Fatalf("%s still running after Close", c.Name())
		}
	}
	if _, err := g.Start(context.Background(), proc.Spec{Role: "echo"}); err == nil {
		t.Fatal("Start after Close accepted")
	}
}

func TestListenFallsBackWhenThePortIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ln, moved, err := proc.Listen(taken.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !moved || ln.Addr().String() == taken.Addr().String() {
		t.Fatalf("moved %v, listening on %s (taken: %s)", moved, ln.Addr(), taken.Addr())
	}
}

func TestListenRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "example.com:80", "nonsense"} {
		if _, _, err := proc.Listen(addr); !errors.Is(err, proc.ErrInvalidOptions) {
			t.Errorf("Listen(%q): %v, want ErrInvalidOptions", addr, err)
		}
	}
}
