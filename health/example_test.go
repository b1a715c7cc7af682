package health_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/ladder-go/ladder/health"
)

func ExampleHandler() {
	ready := &health.Checker{} // zero value: on-demand, 2s timeout, 1s cache
	defer ready.Close()
	_ = ready.Add(health.Check{Name: "db", Func: func(ctx context.Context) error { return nil }})
	_ = ready.Add(health.Check{Name: "search", NonCritical: true, Func: func(ctx context.Context) error {
		return errors.New("index stale")
	}})

	mux := http.NewServeMux()
	mux.Handle("/livez", health.Handler(nil, health.HandlerOptions{}))
	mux.Handle("/readyz", health.Handler(ready, health.HandlerOptions{}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	for _, path := range []string{"/livez", "/readyz"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %d %s", path, resp.StatusCode, body)
	}
	// Output:
	// /livez 200 {"status":"up"}
	// /readyz 200 {"status":"degraded"}
}

func ExampleChecker_Report() {
	c, _ := health.NewChecker(health.CheckerOptions{Timeout: time.Second})
	defer c.Close()
	_ = c.Add(health.Check{Name: "db", Func: func(ctx context.Context) error { return nil }})
	_ = c.Add(health.Check{Name: "queue", Func: func(ctx context.Context) error { return errors.New("no route to host") }})

	r := c.Report(context.Background())
	fmt.Println(r.Status)
	for _, cr := range r.Checks {
		fmt.Println(cr.Name, cr.Status, cr.Err)
	}
	// Output:
	// down
	// db up <nil>
	// queue down health: check "queue": no route to host
}

func ExampleThrottle() {
	th, _ := health.NewThrottle("payments", health.ThrottleOptions{K: 2})
	call := func(ctx context.Context) error { return nil } // the real call to the dependency

	err := health.Do(context.Background(), th, call)
	fmt.Println(err, th.State())
	// Output:
	// <nil> closed
}

func ExampleGoBreaker() {
	br, _ := health.NewGoBreaker("inventory", health.GoBreakerOptions{})
	for range 6 { // gobreaker's default: open after more than 5 consecutive failures
		_ = health.Do(context.Background(), br, func(context.Context) error { return errors.New("timeout") })
	}
	err := health.Do(context.Background(), br, func(context.Context) error { return nil })
	fmt.Println(errors.Is(err, health.ErrOpen), br.State(), br.Rejections())
	// Output:
	// true open 1
}

func ExampleDrain() {
	ready := &health.Checker{}
	mux := http.NewServeMux()
	mux.Handle("/readyz", health.Handler(ready, health.HandlerOptions{}))
	srv := &http.Server{Addr: "127.0.0.1:0", Handler: mux}

	// In main: serve, and drain on SIGTERM (or when ctx is cancelled).
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = srv.ListenAndServe() }()
	cancel() // here: drain at once, instead of waiting for SIGTERM
	err := health.Drain(ctx, srv, ready, health.DrainOptions{Delay: 10 * time.Millisecond, Signals: []os.Signal{}})
	fmt.Println(err, ready.Status())
	// Output:
	// <nil> down
}
