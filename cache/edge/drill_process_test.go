package edge_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// TestDrillOriginKilled runs the origin as a real process (this test
// binary re-executed), fills the cache through an httputil.ReverseProxy,
// SIGKILLs the origin and checks what clients get: the stale response
// where stale-if-error allows it (Cache-Status says why), a prompt 502
// where it does not.
func TestDrillOriginKilled(t *testing.T) {
	cmd, c, clk := startOriginProcess(t, 5*time.Second)
	get := func(path string) *http.Response {
		srv := &env{t: t, clk: clk, c: c}
		return srv.get("http://example.com" + path).Result()
	}
	for _, p := range []string{"/sie", "/plain"} {
		if r := get(p); r.StatusCode != 200 {
			t.Fatalf("%s through a live origin: %d", p, r.StatusCode)
		}
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	clk.Advance(10 * time.Second) // both stored responses are now stale

	r := get("/sie")
	body, _ := io.ReadAll(r.Body)
	cs := r.Header.Get("Cache-Status")
	if r.StatusCode != 200 || string(body) != "origin /sie" || !strings.Contains(cs, "fwd=stale") ||
		!strings.Contains(cs, "fwd-status=502") || !strings.Contains(cs, "detail=origin-error") || r.Header.Get("Age") == "" {
		t.Fatalf("stale-if-error after the origin died: %d %q, Cache-Status %q", r.StatusCode, body, cs)
	}
	for _, p := range []string{"/plain", "/never-stored"} {
		if r := get(p); r.StatusCode != 502 || r.Header.Get("Cache-Status") == "" {
			t.Fatalf("%s after the origin died: %d, Cache-Status %q", p, r.StatusCode, r.Header.Get("Cache-Status"))
		}
	}
}

// TestDrillOriginFrozen stops the origin process with SIGSTOP: it keeps
// its socket and accepts connections but answers nothing, the hung
// dependency a dead one is not. OriginTimeout bounds every wait: the
// response that allows stale-if-error is served stale (Cache-Status says
// origin-timeout), the others get 504 by then, and once the origin runs
// again (SIGCONT) the cache fetches from it again, not stuck on the hang.
func TestDrillOriginFrozen(t *testing.T) {
	const timeout = time.Second
	cmd, c, clk := startOriginProcess(t, timeout)
	get := func(path string) *http.Response {
		srv := &env{t: t, clk: clk, c: c}
		return srv.get("http://example.com" + path).Result()
	}
	for _, p := range []string{"/sie", "/plain"} {
		if r := get(p); r.StatusCode != 200 {
			t.Fatalf("%s through a live origin: %d", p, r.StatusCode)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitState(t, cmd.Process.Pid, 'T')
	continued := false
	defer func() {
		if !continued {
			cmd.Process.Signal(syscall.SIGCONT)
		}
	}()
	clk.Advance(10 * time.Second) // both stored responses are now stale

	start := time.Now()
	r := get("/sie")
	body, _ := io.ReadAll(r.Body)
	cs := r.Header.Get("Cache-Status")
	if r.StatusCode != 200 || string(body) != "origin /sie" || !strings.Contains(cs, "detail=origin-timeout") {
		t.Fatalf("stale-if-error with the origin frozen: %d %q, Cache-Status %q", r.StatusCode, body, cs)
	}
	for _, p := range []string{"/plain", "/never-stored"} {
		if r := get(p); r.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("%s with the origin frozen: %d, want 504", p, r.StatusCode)
		}
	}
	if waited := time.Since(start); waited > 20*timeout {
		t.Fatalf("three requests to a frozen origin took %v with OriginTimeout %v", waited, timeout)
	}

	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	continued = true
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := get("/plain")
		if r.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/plain after the origin thawed: still %d", r.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startOriginProcess runs the origin as a real process (this test binary
// re-executed) behind an httputil.ReverseProxy and a Cache on a fake clock
// with the given OriginTimeout; the process is killed when the test ends.
func startOriginProcess(t *testing.T, originTimeout time.Duration) (*exec.Cmd, *edge.Cache, *clock) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), originEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGCONT)
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse("http://" + strings.TrimSpace(addr))
	tr := &http.Transport{DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = tr
	rp.ErrorLog = log.New(io.Discard, "", 0)
	clk := newClock()
	c, err := edge.New(rp, edge.Options{Now: clk.Now, OriginTimeout: originTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return cmd, c, clk
}

// waitState waits until /proc says process pid is in state (T: stopped).
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()
	for range 500 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil { // no /proc: the signal lands within microseconds
			time.Sleep(100 * time.Millisecond)
			return
		}
		// pid (comm) S …: the state follows the last ')'.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == state {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d never reached state %c", pid, state)
}
