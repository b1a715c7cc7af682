package lb_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
)

// TestProxyDefaultTransportKeepsBackendConns: under a load needing more
// connections to backends at once than http.DefaultTransport keeps idle in
// all (100), the proxy's default transport keeps every one of them for the
// next requests: after the first round, no round dials a backend again.
// Each round holds its requests at the backends until all of them have
// arrived, so each needs exactly that many connections at once.
func TestProxyDefaultTransportKeepsBackendConns(t *testing.T) {
	const backends, perBackend, rounds = 4, 40, 4 // 160 connections at once
	const inFlight = backends * perBackend
	var dials atomic.Int64
	var mu sync.Mutex
	arrived, release := 0, make(chan struct{})
	var bs []lb.Backend[*url.URL]
	for range backends {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			arrived++
			rel := release
			if arrived == inFlight {
				arrived = 0
				close(release)
				release = make(chan struct{})
			}
			mu.Unlock()
			select {
			case <-rel:
			case <-time.After(30 * time.Second): // a stuck round fails below, it does not hang
			}
			io.WriteString(w, "ok")
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				dials.Add(1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		bs = append(bs, lb.Backend[*url.URL]{Value: u})
	}
	pool, err := lb.NewPool(bs, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	front := httptest.NewServer(&lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{StallTimeout: -1}})
	t.Cleanup(front.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight}}
	t.Cleanup(client.CloseIdleConnections)
	for round := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, inFlight)
		for range inFlight {
			wg.Go(func() {
				resp, err := client.Get(front.URL)
				if err != nil {
					errs <- err
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- &statusError{resp.StatusCode}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if n := dials.Load(); n != inFlight {
		t.Errorf("backends accepted %d connections over %d rounds of %d requests at once; want %d (every one kept alive and reused)", n, rounds, inFlight, inFlight)
	}
}

type statusError struct{ code int }

func (e *statusError) Error() string { return http.StatusText(e.code) }

// TestProxyDefaultTransportAcceptEncoding: the default transport does not
// ask backends for gzip on behalf of a client that did not (it would then
// decompress what the backend compressed); a client's own Accept-Encoding
// passes through.
func TestProxyDefaultTransportAcceptEncoding(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "["+r.Header.Get("Accept-Encoding")+"]")
	}))
	t.Cleanup(backend.Close)
	u, _ := url.Parse(backend.URL)
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	front := httptest.NewServer(&lb.Proxy{Pool: pool, Logger: quiet})
	t.Cleanup(front.Close)
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}} // sends no Accept-Encoding of its own
	t.Cleanup(client.CloseIdleConnections)
	for _, ae := range []string{"", "br, gzip"} {
		req, _ := http.NewRequest(http.MethodGet, front.URL, nil)
		if ae != "" {
			req.Header.Set("Accept-Encoding", ae)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got := string(b); got != "["+ae+"]" {
			t.Errorf("client sent Accept-Encoding %q: backend saw %s, want [%s]", ae, got, ae)
		}
	}
}
