package observe_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/observe"
)

// readFromRecorder is a ResponseWriter that, like net/http's own, is an
// io.ReaderFrom, and records whether ReadFrom was used.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	readFrom int
}

func (w *readFromRecorder) ReadFrom(r io.Reader) (int64, error) {
	w.readFrom++
	return io.Copy(w.ResponseRecorder, r)
}

// A file served through the middleware reaches the connection's ReadFrom
// (net/http's sendfile path), and the status is still recorded.
func TestMiddlewareWriterKeepsReadFromForServedFiles(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	body := bytes.Repeat([]byte("ladder "), 4096)
	path := filepath.Join(t.TempDir(), "f.txt")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f, err := os.Open(path)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		http.ServeContent(w, req, "f.txt", time.Time{}, f)
	}))
	w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	h.ServeHTTP(w, httptest.NewRequest("GET", "/f.txt", nil))
	if w.readFrom == 0 {
		t.Error("http.ServeContent through the middleware did not use the ResponseWriter's ReadFrom (sendfile lost)")
	}
	if !bytes.Equal(w.Body.Bytes(), body) || w.Code != http.StatusOK {
		t.Errorf("got %d and %d bytes, want 200 and %d bytes", w.Code, w.Body.Len(), len(body))
	}
	if st := statusOf(t, r); st != 200 {
		t.Errorf("recorded status %d, want 200", st)
	}
}

// io.Copy into the wrapped writer from a plain reader works when the
// underlying writer is no io.ReaderFrom.
func TestMiddlewareWriterReadFromWithoutUnderlyingReaderFrom(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	h := r.mw.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, err := io.Copy(w, strings.NewReader("hello")); err != nil {
			t.Error(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Body.String() != "hello" || rec.Code != 200 {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}

// Over a real connection: Hijack through the middleware (direct assertion
// and http.ResponseController), ResponseController's deadlines through
// Unwrap, and Flush all reach the connection.
func TestMiddlewareWriterKeepsHijackDeadlinesAndFlush(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, req *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("wrapped writer is no io.ReaderFrom")
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			t.Error("wrapped writer is no http.Hijacker")
			return
		}
		c, brw, err := hj.Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nhijacked\n")
		_ = brw.Flush()
	})
	mux.HandleFunc("/rc", func(w http.ResponseWriter, req *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the middleware: %v", err)
		}
		if err := rc.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetReadDeadline through the middleware: %v", err)
		}
		_, _ = io.WriteString(w, "a")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
	})
	srv := httptest.NewServer(r.mw.Wrap(mux))
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.WriteString(c, "GET /hijack HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Errorf("status %d, want 101 from the hijacked connection", resp.StatusCode)
	}
	resp.Body.Close()

	res, err := srv.Client().Get(srv.URL + "/rc")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "a" {
		t.Errorf("body %q", b)
	}
}

// statusOf is the status code of the one series recorded.
func statusOf(t *testing.T, r *rig) int64 {
	t.Helper()
	hist := r.collect(t)["http.server.request.duration"].Data.(metricdata.Histogram[float64])
	if len(hist.DataPoints) != 1 {
		t.Fatalf("%d series, want 1", len(hist.DataPoints))
	}
	v, _ := hist.DataPoints[0].Attributes.Value("http.response.status_code")
	return v.AsInt64()
}
