package lb_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// A request's GetBody (set by http.NewRequest for an in-memory body) does
// not let the base http.Transport resend a POST on its own behind the
// balancer's back: net/http resends a request carrying an Idempotency-Key
// whose reused connection broke, to the same backend, outside Attempts and
// the budget, and even with the option off. The balancer alone decides.
func TestTransportKeyedPostWithGetBodyResentByBalancerOnly(t *testing.T) {
	for _, ro := range []lb.RetryOptions{{}, {IdempotencyKeyHeader: "Idempotency-Key", Attempts: 1}} {
		bs := lbtest.Start(t, 1)
		pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
		tr := &lb.Transport{Pool: pool, Retry: ro}
		c := &http.Client{Transport: tr}
		// Warm a connection, so the POST goes on a reused one.
		resp, err := c.Get("http://svc/warm")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		bs[0].Handle(dieAfterReading)
		before := bs[0].Hits.Load()
		req, _ := http.NewRequest("POST", "http://svc/x", bytes.NewReader([]byte("payload")))
		req.Header.Set("Idempotency-Key", "k")
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
		}
		if n := bs[0].Hits.Load() - before; n != 1 {
			t.Errorf("%+v: the POST reached the backend %d times, want once", ro, n)
		}
		tr.CloseIdleConnections()
	}
}

// A keyed resend is counted once in ladder.lb.retries, against the backend
// that failed it; a POST not resent counts none.
func TestProxyCountsKeyedResends(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	bs := lbtest.Start(t, 2)
	bs[0].Handle(dieAfterReading)
	bs[1].Handle(echoBody)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(), MeterProvider: mp,
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"}})
	get(t, front.Client(), keyedReq(t, "POST", front.URL, "", "unkeyed", false))
	get(t, front.Client(), keyedReq(t, "POST", front.URL, "k", "keyed", false))
	var n int64
	for _, v := range sums(t, reader)["ladder.lb.retries"] {
		n += v
	}
	if n != 1 {
		t.Errorf("ladder.lb.retries %d, want 1 (the keyed POST's resend)", n)
	}
}
