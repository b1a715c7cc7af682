package edge_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/internal/testenv"
)

// slowClient reads at a steady pace: each write takes a while.
type slowClient struct {
	*httptest.ResponseRecorder
	per time.Duration
}

func (s *slowClient) Write(p []byte) (int, error) {
	time.Sleep(s.per)
	return s.ResponseRecorder.Write(p)
}

// A large body streaming to a slow but steady client takes longer than
// OriginTimeout in all: it must not be cut, since neither the origin nor
// the client ever stalls (OriginTimeout bounds the origin's silence, as
// Varnish's between_bytes_timeout and nginx's proxy_read_timeout do, not a
// whole download). A client that stops reading altogether still releases
// the origin fetch after OriginTimeout.
func TestLongDownloadNotCutByOriginTimeout(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		e := newEnv(t, edge.Options{MaxObjectSize: 64 << 10, OriginTimeout: time.Second})
		body := bytes.Repeat([]byte("0123456789abcdef"), (4<<20)/16)
		e.org.set(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "max-age=60")
			for p := body; len(p) > 0; p = p[min(len(p), 32<<10):] {
				if _, err := w.Write(p[:min(len(p), 32<<10)]); err != nil {
					return
				}
			}
		})
		w := &slowClient{httptest.NewRecorder(), 100 * time.Millisecond} // ~13 s for 4 MiB in 32 KiB writes
		cut := false
		func() {
			defer func() { cut = recover() != nil }()
			e.c.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://example.com/iso", nil))
		}()
		if cut || !bytes.Equal(w.Body.Bytes(), body) {
			t.Fatalf("cut %v after %d of %d bytes", cut, w.Body.Len(), len(body))
		}

		// A client that never reads: the fetch ends after OriginTimeout
		// without progress, the origin handler returns.
		stuck := &stalled{httptest.NewRecorder(), make(chan struct{})}
		returned := make(chan struct{})
		e.org.set(func(w http.ResponseWriter, r *http.Request) {
			defer close(returned)
			for p := body; len(p) > 0; p = p[min(len(p), 32<<10):] {
				if _, err := w.Write(p[:min(len(p), 32<<10)]); err != nil {
					return
				}
			}
		})
		go func() {
			defer func() { recover() }()
			e.c.ServeHTTP(stuck, httptest.NewRequest(http.MethodGet, "http://example.com/iso2", nil))
		}()
		<-returned // waits in the bubble: fake time moves when all are blocked
		close(stuck.unblock)
	})
}
