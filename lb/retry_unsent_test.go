package lb_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// A request that never reached a backend is sent to another one whatever its
// method, with its body intact, and without the retry budget.
func TestProxyRetriesUnsentRequestAnyMethod(t *testing.T) {
	bs := lbtest.Start(t, 2)
	bs[1].Handle(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		io.WriteString(w, r.Method+" "+string(b))
	})
	bs[0].Kill() // refuses connections
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(),
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	// Budget < 0: no retries of requests that reached a backend at all.
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{Budget: -1, Attempts: 1}})
	for _, method := range []string{"POST", "PATCH", "GET"} {
		for range 3 {
			req := mustReq(t, method, front.URL)
			req.Body = io.NopCloser(strings.NewReader("payload"))
			code, body, _ := get(t, front.Client(), req)
			if code != 200 || body != method+" payload" {
				t.Errorf("%s to a refusing backend: %d %q, want 200 from the other with the body", method, code, body)
			}
		}
	}
}

// A request that reached a backend and failed there is retried only if it
// is idempotent without a body: a POST is not sent twice.
func TestProxyDoesNotRetrySentPost(t *testing.T) {
	bs := lbtest.Start(t, 2)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	req := mustReq(t, "POST", front.URL)
	req.Body = io.NopCloser(strings.NewReader("payload"))
	if code, _, _ := get(t, front.Client(), req); code != 502 {
		t.Errorf("status %d, want the backend's 502", code)
	}
	if n := bs[0].Hits.Load() + bs[1].Hits.Load(); n != 1 {
		t.Errorf("the POST reached backends %d times, want once", n)
	}
}
