package lb_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// closeRecorder is a request body that reports its Close.
type closeRecorder struct {
	io.Reader
	closed chan struct{}
}

func (c *closeRecorder) Close() error {
	select {
	case <-c.closed:
	default:
		close(c.closed)
	}
	return nil
}

// A RoundTripper must close the request body (net/http's contract), on
// success as on failure, also after a retry on another backend: a file or
// pipe body would otherwise stay open.
func TestTransportClosesRequestBody(t *testing.T) {
	bs := lbtest.Start(t, 2)
	bs[1].Kill() // its tries are refused, then retried on b0
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) })
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	tr := &lb.Transport{Pool: pool}
	for i := range 4 { // round robin: some first tries go to the dead one
		body := &closeRecorder{Reader: strings.NewReader("payload"), closed: make(chan struct{})}
		req, err := http.NewRequest("POST", "http://users.internal/upload", body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		select {
		case <-body.closed:
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d: body never closed", i)
		}
	}
}
