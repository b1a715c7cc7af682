package lb_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
)

// Example wires what a load balancer needs: a pool of backend URLs, an
// active health check of each backend, and the reverse proxy in front.
// When web-2's health check starts failing, traffic goes to web-1 only.
func Example() {
	var web2Sick atomic.Bool
	var urls []string
	for _, name := range []string{"web-1", "web-2"} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				if name == "web-2" && web2Sick.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
				}
				return
			}
			fmt.Fprintf(w, "%s served %s", name, r.URL.Path)
		}))
		defer srv.Close()
		urls = append(urls, srv.URL)
	}

	backends, err := lb.ParseBackends(urls...)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Round robin by default; Rand only makes the example's order fixed.
	pool, err := lb.NewPool(backends, lb.PoolOptions{Rand: func() uint64 { return 0 }})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()

	// Probe GET /healthz on every backend; one failure takes it out of
	// rotation, one success brings it back (the defaults are 3 and 2).
	prober, err := health.NewProber(health.ProberOptions{Interval: 20 * time.Millisecond, Rise: 1, Fall: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer prober.Close()
	stop, err := lb.ProbeHTTP(pool, prober, "/healthz", health.HTTPProbeOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	proxy := &lb.Proxy{Pool: pool}
	if err := proxy.Validate(); err != nil { // at startup, not on the first request
		fmt.Println(err)
		return
	}
	front := httptest.NewServer(proxy) // http.ListenAndServe(":8080", proxy)
	defer front.Close()

	get := func(path string) {
		resp, err := http.Get(front.URL + path)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(string(body))
	}
	get("/a")
	get("/b")

	web2Sick.Store(true)
	for i := 0; i < 500; i++ { // until the prober has seen it (at most 5 s)
		if healthy, _ := pool.Healthy(); healthy == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	get("/c")
	get("/d")
	// Output:
	// web-1 served /a
	// web-2 served /b
	// web-1 served /c
	// web-1 served /d
}
