package observe_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/observe"
)

// MaxRoutes bounds routes, not series: a route answered with several status
// codes and methods is still one route.
func TestMiddlewareMaxRoutesCountsRoutesNotSeries(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{MaxRoutes: 2})
	mux := http.NewServeMux()
	mux.HandleFunc("/a", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Has("fail") {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("/b", func(http.ResponseWriter, *http.Request) {})
	h := r.mw.Wrap(mux)
	do(t, h, "GET", "/a")
	do(t, h, "GET", "/a?fail")
	do(t, h, "POST", "/a")
	do(t, h, "GET", "/b")
	hist := r.collect(t)["http.server.request.duration"].Data.(metricdata.Histogram[float64])
	for _, dp := range hist.DataPoints {
		if _, ok := dp.Attributes.Value("http.route"); !ok {
			t.Errorf("series %v lost its route with only 2 routes under MaxRoutes 2", dp.Attributes.ToSlice())
		}
	}
}

// active_requests returns to 0 whatever the handler did: hijacked the
// connection, streamed, never wrote, or lost its client mid-request.
func TestMiddlewareActiveRequestsReturnToZeroOverARealServer(t *testing.T) {
	r := newRig(t, observe.MiddlewareOptions{})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, req *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		_ = brw.Flush()
		_ = c.Close()
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, req *http.Request) {
		rc := http.NewResponseController(w)
		for range 3 {
			_, _ = w.Write([]byte("x\n"))
			if err := rc.Flush(); err != nil {
				t.Error(err)
			}
		}
	})
	mux.HandleFunc("/silent", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/wait", func(w http.ResponseWriter, req *http.Request) {
		entered <- struct{}{}
		select {
		case <-req.Context().Done():
		case <-release:
		}
	})
	srv := httptest.NewServer(r.mw.Wrap(mux))
	defer srv.Close()
	defer close(release)

	for _, p := range []string{"/stream", "/silent", "/nowhere"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("GET /hijack HTTP/1.1\r\nHost: x\r\n\r\n"))
	_, _ = bufio.NewReader(c).ReadString('\n')
	_ = c.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/wait", nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.DefaultClient.Do(req); err == nil {
			_ = res.Body.Close()
		}
	}()
	<-entered
	cancel()
	<-done

	for i := 0; ; i++ { // the server notices the client's cancel on its own time
		s := r.collect(t)["http.server.active_requests"].Data.(metricdata.Sum[int64])
		var total int64
		for _, dp := range s.DataPoints {
			total += dp.Value
		}
		if total == 0 {
			break
		}
		if i == 500 {
			t.Fatalf("active requests %d, want 0", total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	http.DefaultClient.CloseIdleConnections()
}
