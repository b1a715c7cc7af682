package lb_test

import (
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// A keyed POST whose first try timed out (PerTryTimeout) or was refused
// before its body was read (503 at once, a large body unsent) is resent
// whole to the next backend.
func TestProxyResendsKeyedPostWholeAfterTimeoutOrEarlyAnswer(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 4000) // 64000 bytes, under the limit
	for name, first := range map[string]http.HandlerFunc{
		"per-try timeout": func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // then the server sees the proxy hang up
			<-r.Context().Done()
		},
		"early 503": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusServiceUnavailable)
		},
	} {
		bs := lbtest.Start(t, 2)
		bs[0].Handle(first)
		bs[1].Handle(echoBody)
		pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(),
			Outlier: lb.OutlierOptions{Consecutive: -1}})
		front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{
			IdempotencyKeyHeader: "Idempotency-Key", PerTryTimeout: 200 * time.Millisecond, StallTimeout: -1}})
		for _, chunked := range []bool{false, true} {
			code, body, _ := get(t, front.Client(), keyedReq(t, "POST", front.URL, "k", big, chunked))
			if code != 200 || body != "POST k "+big {
				t.Errorf("%s, chunked %v: %d, %d bytes; want 200 and the body whole from b1", name, chunked, code, len(body))
			}
		}
	}
}

// The largest ReplayBodyLimit buffers the body whole (limit+1 must not
// overflow into a limit of nothing, sending an empty body).
func TestProxyKeyedBodyWithLargestReplayLimit(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		url, c, _ := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key", ReplayBodyLimit: math.MaxInt64})
		code, body, _ := get(t, c, keyedReq(t, "POST", url, "k", "payload", chunked))
		if code != 200 || body != "POST k payload" {
			t.Errorf("chunked %v: %d %q, want the body whole, resent", chunked, code, body)
		}
	}
}
