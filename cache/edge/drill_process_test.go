package edge_test

import (
	"bufio"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
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
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), originEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
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
	c, err := edge.New(rp, edge.Options{Now: clk.Now, OriginTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
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
	killed = true
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
