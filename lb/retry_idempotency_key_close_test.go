package lb_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// closeCounter is a request body that counts its Close calls.
type closeCounter struct {
	*strings.Reader
	n atomic.Int32
}

func (c *closeCounter) Close() error { c.n.Add(1); return nil }

// The Transport closes a keyed request's body exactly once, as
// http.Transport does, whether the request succeeds or every try fails
// (the Close of an io.Closer called twice is undefined).
func TestTransportClosesKeyedBodyOnce(t *testing.T) {
	for _, die := range []bool{false, true} {
		bs := lbtest.Start(t, 2)
		for _, b := range bs {
			if die {
				b.Handle(dieAfterReading)
			} else {
				b.Handle(echoBody)
			}
		}
		pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
		tr := &lb.Transport{Pool: pool, Retry: lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"}}
		body := &closeCounter{Reader: strings.NewReader("payload")}
		req, _ := http.NewRequest("POST", "http://svc/x", body)
		req.Header.Set("Idempotency-Key", "k")
		resp, err := tr.RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		if (err != nil) != die {
			t.Errorf("backends dying %v: %v", die, err)
		}
		if n := body.n.Load(); n != 1 {
			t.Errorf("backends dying %v: body closed %d times, want once", die, n)
		}
	}
}
