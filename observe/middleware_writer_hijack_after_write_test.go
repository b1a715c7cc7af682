package observe_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/observe"
)

// A handler that answered (here through ReadFrom, its first write) and then
// hijacks the connection (to close it, or to keep writing raw) sent that
// answer: the status recorded is the one sent, not 101.
func TestMiddlewareStatusKeptWhenHijackedAfterAnswer(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		want   int64
	}{
		{"ReadFrom", func(w http.ResponseWriter) {
			_, _ = w.(io.ReaderFrom).ReadFrom(io.LimitReader(strings.NewReader("hello"), 5))
		}, 200},
		{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, 503},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, observe.MiddlewareOptions{})
			srv := httptest.NewServer(r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				c.answer(w)
				if err := http.NewResponseController(w).Flush(); err != nil {
					t.Error(err)
				}
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				conn.Close()
			})))
			defer srv.Close()
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if int64(resp.StatusCode) != c.want {
				t.Fatalf("client got %d, want %d", resp.StatusCode, c.want)
			}
			// The middleware records once the handler has returned, after
			// the client has its answer.
			for range 1000 {
				if _, ok := r.collect(t)["http.server.request.duration"]; ok {
					break
				}
				time.Sleep(time.Millisecond)
			}
			if st := statusOf(t, r); st != c.want {
				t.Errorf("recorded status %d, the client got %d", st, c.want)
			}
		})
	}
}
