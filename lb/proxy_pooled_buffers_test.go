package lb_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// bodyFor is response id's body: its id repeated, so bytes of another
// response are seen.
func bodyFor(id, size int) []byte {
	pat := []byte(fmt.Sprintf("<%d>", id))
	b := bytes.Repeat(pat, size/len(pat)+1)
	return b[:size]
}

// TestProxyPooledCopyBuffersNeverMixResponses: response bodies are copied
// through pooled buffers, so a buffer returned to the pool while a copy
// still used it would put one response's bytes into another. Concurrent
// responses of sizes around the buffer's (32 kB), streamed
// (text/event-stream) or not, flushed after every write, on a timer or
// when the buffer fills, over HTTP/1.1 and HTTP/2, with clients leaving
// mid-body, each arrive exactly as the backend wrote them (and -race sees
// no buffer shared by two copies).
func TestProxyPooledCopyBuffersNeverMixResponses(t *testing.T) {
	bs := lbtest.Start(t, 2)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			id, _ := strconv.Atoi(r.URL.Query().Get("id"))
			size, _ := strconv.Atoi(r.URL.Query().Get("size"))
			if r.URL.Query().Get("sse") != "" {
				w.Header().Set("Content-Type", "text/event-stream")
			}
			body := bodyFor(id, size)
			for len(body) > 0 {
				n := min(len(body), 7000)
				w.Write(body[:n])
				body = body[n:]
				http.NewResponseController(w).Flush()
			}
		})
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	for _, fi := range []time.Duration{0, -1, time.Millisecond} {
		for _, h2 := range []bool{false, true} {
			srv := httptest.NewUnstartedServer(&lb.Proxy{Pool: pool, Logger: quiet, FlushInterval: fi})
			if h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			c := srv.Client()
			if h2 {
				c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
				c.Transport.(*http.Transport).ForceAttemptHTTP2 = true
			}
			var wg sync.WaitGroup
			sizes := []int{1, 100, 32<<10 - 1, 32 << 10, 32<<10 + 1, 200 << 10}
			for w := range 6 {
				wg.Go(func() {
					for i := range 12 {
						id := w*1000 + i
						size := sizes[i%len(sizes)]
						sse := ""
						if i%3 == 0 {
							sse = "&sse=1"
						}
						ctx, cancel := context.WithCancel(context.Background())
						req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/?id=%d&size=%d%s", srv.URL, id, size, sse), nil)
						resp, err := c.Do(req)
						if err != nil {
							t.Error(err)
							cancel()
							return
						}
						if i%4 == 1 && size > 1000 {
							buf := make([]byte, size/2)
							io.ReadFull(resp.Body, buf)
							if !bytes.Equal(buf, bodyFor(id, size)[:size/2]) {
								t.Errorf("response %d (%d bytes), first half: not the bytes the backend wrote", id, size)
							}
							cancel()
							resp.Body.Close()
							continue
						}
						got, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						cancel()
						if err != nil || !bytes.Equal(got, bodyFor(id, size)) {
							t.Errorf("FlushInterval %v, HTTP/2 %v: response %d (%d bytes): got %d bytes, err %v, not the bytes the backend wrote", fi, h2, id, size, len(got), err)
						}
					}
				})
			}
			wg.Wait()
			c.CloseIdleConnections()
			srv.Close()
		}
	}
	waitIdle(t, pool)
}
