package session_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ladder-go/ladder/session"
)

// A streaming handler behind the middleware reaches the real connection: deadlines via
// http.ResponseController (through Unwrap) and flushed chunks that the client reads while
// the handler is still running. The cookie arrives with the first chunk.
func TestStreaming(t *testing.T) {
	st := newMemory(t)
	m, err := session.New(st, session.Options{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	next := make(chan struct{})
	srv := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline: %v", err)
		}
		if err := session.Put(session.From(r.Context()), "k", 1); err != nil {
			t.Error(err)
		}
		for _, chunk := range []string{"one\n", "two\n"} {
			_, _ = w.Write([]byte(chunk))
			if err := rc.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			select {
			case <-next:
			case <-r.Context().Done():
				return
			}
		}
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if len(resp.Cookies()) != 1 {
		t.Fatalf("cookies with the first chunk: %v", resp.Cookies())
	}
	br := bufio.NewReader(resp.Body)
	for _, want := range []string{"one\n", "two\n"} {
		line, err := br.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("read %q, %v; want %q while the handler is still running", line, err, want)
		}
		next <- struct{}{}
	}
}
