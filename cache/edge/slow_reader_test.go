package edge_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/internal/testenv"
)

// stalled is a client that stops reading: its first body write blocks
// until unblocked.
type stalled struct {
	*httptest.ResponseRecorder
	unblock chan struct{}
}

func (s *stalled) Write(p []byte) (int, error) {
	<-s.unblock
	return s.ResponseRecorder.Write(p)
}

// One client that never reads must not stall the other clients reading the
// same fill, whether the body is being stored (it accumulates) or is too
// large to store (the fill buffers a bounded window and cuts a client a
// whole window behind the others, instead of waiting for it until
// OriginTimeout and cutting everybody).
func TestStalledReaderDoesNotStallFollowers(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{{"stored", 32 << 10}, {"too large to store", 4 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				e := newEnv(t, edge.Options{MaxObjectSize: 64 << 10, OriginTimeout: time.Hour})
				body := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16)
				release := make(chan struct{})
				e.org.set(func(w http.ResponseWriter, r *http.Request) {
					<-release
					w.Header().Set("Cache-Control", "max-age=60")
					for p := body; len(p) > 0; p = p[min(len(p), 32<<10):] {
						if _, err := w.Write(p[:min(len(p), 32<<10)]); err != nil {
							return
						}
					}
				})
				var wg sync.WaitGroup
				const readers = 3
				got := make([]*httptest.ResponseRecorder, readers)
				cut := make([]bool, readers)
				for i := range readers {
					wg.Go(func() { got[i], cut[i] = serve(e.c, "http://example.com/big") })
					for e.c.Stats().Misses+e.c.Stats().Collapsed < int64(i+1) {
						time.Sleep(time.Millisecond)
					}
				}
				slow := &stalled{httptest.NewRecorder(), make(chan struct{})}
				slowDone := make(chan bool, 1)
				go func() {
					defer func() { slowDone <- recover() == http.ErrAbortHandler }()
					e.c.ServeHTTP(slow, httptest.NewRequest(http.MethodGet, "http://example.com/big", nil))
				}()
				for e.c.Stats().Collapsed < readers {
					time.Sleep(time.Millisecond)
				}
				close(release)
				wg.Wait()
				close(slow.unblock)
				aborted := <-slowDone
				for i, w := range got {
					if cut[i] || !bytes.Equal(w.Body.Bytes(), body) {
						t.Fatalf("reader %d got %d of %d bytes (cut %v)", i, w.Body.Len(), len(body), cut[i])
					}
				}
				if tc.size > 64<<10 && !aborted && !bytes.Equal(slow.Body.Bytes(), body) {
					t.Fatalf("stalled reader: neither cut nor whole (%d bytes)", slow.Body.Len())
				}
			})
		})
	}
}
