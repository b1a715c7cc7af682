package lb_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// TestProxyRefusedUpgradeEndsTheTry: when httputil.ReverseProxy refuses a
// backend's 101 Switching Protocols (the backend switched to another
// protocol than the client asked for, or the ResponseWriter cannot hijack
// the client's connection), it answers 502 without closing the backend's
// response body. The proxy must still end the try: the backend's
// connection is closed (no fd held until the process exits) and the
// backend is not counted in flight forever (which would skew least-request
// and P2C away from it).
func TestProxyRefusedUpgradeEndsTheTry(t *testing.T) {
	for _, tc := range []struct {
		name     string
		switchTo string // what the backend switches to; the client asks for "echo"
		wrap     func(http.ResponseWriter) http.ResponseWriter
	}{
		{"backend switches to another protocol", "other", nil},
		{"response writer cannot hijack", "echo", func(w http.ResponseWriter) http.ResponseWriter { return noHijackWriter{w} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bs := lbtest.Start(t, 1)
			backendConnClosed := make(chan struct{})
			bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "Upgrade")
				w.Header().Set("Upgrade", tc.switchTo)
				w.WriteHeader(http.StatusSwitchingProtocols)
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				defer conn.Close()
				io.Copy(io.Discard, conn) // until the proxy closes its side
				close(backendConnClosed)
			})
			pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.LeastRequest()})
			p := &lb.Proxy{Pool: pool, Logger: quiet}
			var h http.Handler = p
			if tc.wrap != nil {
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.ServeHTTP(tc.wrap(w), r) })
			}
			front := serve(t, h)
			conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway {
				t.Errorf("status %d, want 502", resp.StatusCode)
			}
			select {
			case <-backendConnClosed:
			case <-time.After(10 * time.Second):
				t.Fatal("the backend's upgraded connection was never closed")
			}
			waitIdle(t, pool)
		})
	}
}

// noHijackWriter hides the ResponseWriter's Hijack (and Unwrap), as many
// middleware wrappers do.
type noHijackWriter struct{ w http.ResponseWriter }

func (n noHijackWriter) Header() http.Header         { return n.w.Header() }
func (n noHijackWriter) Write(p []byte) (int, error) { return n.w.Write(p) }
func (n noHijackWriter) WriteHeader(code int)        { n.w.WriteHeader(code) }
