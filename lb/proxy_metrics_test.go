package lb_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ladder-go/ladder/lb"
)

// countingBackends starts n loopback backends that count the requests they
// receive; status(i) is backend i's answer, and gate, if not nil, holds
// every answer until it is closed.
func countingBackends(t *testing.T, n int, status func(i int) int, gate chan struct{}) ([]lb.Backend[*url.URL], []*atomic.Int64, *sync.WaitGroup) {
	t.Helper()
	var arrived sync.WaitGroup
	var bs []lb.Backend[*url.URL]
	var counts []*atomic.Int64
	for i := range n {
		c := new(atomic.Int64)
		counts = append(counts, c)
		srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.Add(1)
			if gate != nil {
				arrived.Done()
				<-gate
			}
			w.WriteHeader(status(i))
		}))
		u, _ := url.Parse(srv.URL)
		bs = append(bs, lb.Backend[*url.URL]{Name: string(rune('a' + i)), Value: u})
	}
	return bs, counts, &arrived
}

// Through Proxy, a round robin pool (which reads no in-flight counts)
// still shows each backend's requests in flight, and counts each try once.
func TestProxyCountsInFlight(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	gate := make(chan struct{})
	bs, _, arrived := countingBackends(t, 2, func(int) int { return 200 }, gate)
	pool, err := lb.NewPool(bs, lb.PoolOptions{MeterProvider: mp, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	sums(t, reader) // a first collection: telemetry records from now on
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	const held = 4
	arrived.Add(held)
	var wg sync.WaitGroup
	for range held {
		wg.Go(func() {
			resp, err := front.Client().Get(front.URL)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	arrived.Wait()
	got := sums(t, reader)
	if got["ladder.lb.inflight"]["a"]+got["ladder.lb.inflight"]["b"] != held ||
		got["ladder.lb.requests"]["a"]+got["ladder.lb.requests"]["b"] != held {
		t.Errorf("while held: inflight %v, requests %v, want %d each in all", got["ladder.lb.inflight"], got["ladder.lb.requests"], held)
	}
	close(gate)
	wg.Wait()
	got = sums(t, reader)
	if got["ladder.lb.inflight"]["a"] != 0 || got["ladder.lb.inflight"]["b"] != 0 ||
		got["ladder.lb.requests"]["a"]+got["ladder.lb.requests"]["b"] != held {
		t.Errorf("after: inflight %v, requests %v, want 0 and %d", got["ladder.lb.inflight"], got["ladder.lb.requests"], held)
	}
}

// Retries that skip a backend already tried count the tries that reached
// each backend, exactly: a choice thrown away (a backend tried already, or
// a retry the budget refused) is not a request.
func TestProxyRequestsCountTriesExactly(t *testing.T) {
	for _, tc := range []struct {
		policy lb.Policy
		retry  lb.RetryOptions
	}{
		{lb.RoundRobin(), lb.RetryOptions{Budget: 1}},
		{lb.RoundRobin(), lb.RetryOptions{Budget: 0.01, MinRetries: 1}}, // most retries refused
		{lb.Random(), lb.RetryOptions{Budget: 1}},
		{lb.Random(), lb.RetryOptions{Budget: 0.01, MinRetries: 1}},
		{lb.LeastRequest(), lb.RetryOptions{Budget: 1}},
	} {
		policy := tc.policy
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		// Backend a always fails with 503, so requests it gets are retried
		// on b or c; b and c answer.
		bs, counts, _ := countingBackends(t, 3, func(i int) int { return map[bool]int{true: 503, false: 200}[i == 0] }, nil)
		pool, err := lb.NewPool(bs, lb.PoolOptions{Policy: policy, MeterProvider: mp, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		sums(t, reader)
		front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: tc.retry})
		for range 60 {
			resp, err := front.Client().Get(front.URL)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		got := sums(t, reader)
		t.Logf("%T %v: received %d %d %d, requests %v, errors %v", policy, tc.retry.Budget, counts[0].Load(), counts[1].Load(), counts[2].Load(), got["ladder.lb.requests"], got["ladder.lb.errors"])
		for i, name := range []string{"a", "b", "c"} {
			if got["ladder.lb.requests"][name] != counts[i].Load() {
				t.Errorf("%T %+v: backend %s: ladder.lb.requests %d, received %d", policy, tc.retry, name, got["ladder.lb.requests"][name], counts[i].Load())
			}
			if got["ladder.lb.inflight"][name] != 0 {
				t.Errorf("%T: backend %s: %d in flight after every request", policy, name, got["ladder.lb.inflight"][name])
			}
		}
		if counts[0].Load() == 0 {
			t.Errorf("%T: backend a never tried: the test retried nothing", policy)
		}
		pool.Close()
		mp.Shutdown(context.Background())
	}
}

// A request started before telemetry was first seen recording, and one
// after, leave nothing in flight once both finish: each try's done undoes
// exactly what its start counted.
func TestProxyTelemetryFoundRecordingMidRequest(t *testing.T) {
	var cb metric.Callback
	gate := make(chan struct{})
	bs, _, arrived := countingBackends(t, 1, func(int) int { return 200 }, gate)
	pool, err := lb.NewPool(bs, lb.PoolOptions{MeterProvider: registering{cb: &cb}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	var wg sync.WaitGroup
	send := func() {
		arrived.Add(1)
		wg.Go(func() {
			resp, err := front.Client().Get(front.URL)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
		arrived.Wait()
	}
	send()                                                          // not counted: nothing records yet
	if err := cb(context.Background(), nopObserver{}); err != nil { // a first collection
		t.Fatal(err)
	}
	send() // counted
	if got := pool.Endpoints()[0].InFlight(); got != 1 {
		t.Errorf("InFlight = %d, want 1", got)
	}
	close(gate)
	wg.Wait()
	if got := pool.Endpoints()[0].InFlight(); got != 0 {
		t.Errorf("InFlight = %d after both finished, want 0", got)
	}
}
