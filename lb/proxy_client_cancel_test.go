package lb_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func TestClientLeavingMidBodyIsNotABackendFailure(t *testing.T) {
	bs := lbtest.Start(t, 2)
	started := make(chan struct{}, 10)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("partial"))
			http.NewResponseController(w).Flush()
			started <- struct{}{}
			<-r.Context().Done()
		})
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: 1},
		Policy: lb.LeastRequest()}) // counts in flight, which the loop below waits on
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	for range 4 {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", front.URL, nil)
		resp, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		<-started
		buf := make([]byte, 7)
		io.ReadFull(resp.Body, buf)
		cancel()
		resp.Body.Close()
		waitIdle(t, pool)
	}
	if h, _ := pool.Healthy(); h != 2 {
		t.Errorf("%d healthy: clients hanging up ejected a backend", h)
	}
}

func TestClientLeavingBeforeHeadersIsNotABackendFailure(t *testing.T) {
	for _, perTry := range []time.Duration{0, time.Hour} {
		bs := lbtest.Start(t, 2)
		arrived := make(chan struct{}, 10)
		for _, b := range bs {
			b.Handle(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				<-r.Context().Done()
			})
		}
		pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: 1},
			Policy: lb.LeastRequest()})
		front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{PerTryTimeout: perTry}})
		for range 4 {
			ctx, cancel := context.WithCancel(context.Background())
			req, _ := http.NewRequestWithContext(ctx, "GET", front.URL, nil)
			go func() { <-arrived; cancel() }()
			if resp, err := front.Client().Do(req); err == nil {
				resp.Body.Close()
			}
			waitIdle(t, pool)
		}
		if h, _ := pool.Healthy(); h != 2 {
			t.Errorf("per-try %v: %d healthy: clients hanging up ejected a backend", perTry, h)
		}
	}
}

// waitIdle waits until no request is in flight on any backend of pool: the
// proxy has finished with every request the test sent.
func waitIdle[T any](t *testing.T, pool *lb.Pool[T]) {
	t.Helper()
	for i := 0; ; i++ {
		in := int64(0)
		for _, e := range pool.Endpoints() {
			in += e.InFlight()
		}
		if in == 0 {
			return
		}
		if i > 5000 {
			t.Fatal("request never finished")
		}
		time.Sleep(time.Millisecond)
	}
}
