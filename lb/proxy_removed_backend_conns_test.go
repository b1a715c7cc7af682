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

// TestProxyClosesConnectionsOfRemovedBackends: the default transport keeps
// up to 256 idle connections per backend and no cap in all, so a backend
// removed from the pool must not keep its idle connections (and file
// descriptors) for the transport's 90 s idle timeout: in a rolling deploy
// every replaced backend would add its own. After an update, once a request
// has passed, a removed backend holds no connection from the proxy; the
// backends still in the pool keep theirs.
func TestProxyClosesConnectionsOfRemovedBackends(t *testing.T) {
	const generations, perRound = 3, 12
	type backend struct {
		u    *url.URL
		open atomic.Int64 // connections the proxy holds to it
	}
	start := func() *backend {
		b := &backend{}
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(2 * time.Millisecond) // requests overlap: several connections per backend
			io.WriteString(w, "ok")
		}))
		srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				b.open.Add(1)
			case http.StateClosed, http.StateHijacked:
				b.open.Add(-1)
			}
		}
		srv.Start()
		t.Cleanup(srv.Close)
		b.u, _ = url.Parse(srv.URL)
		return b
	}
	members := func(bs ...*backend) []lb.Backend[*url.URL] {
		var out []lb.Backend[*url.URL]
		for _, b := range bs {
			out = append(out, lb.Backend[*url.URL]{Name: b.u.Host, Value: b.u})
		}
		return out
	}
	stay := start()
	cur := start()
	pool, err := lb.NewPool(members(stay, cur), lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	client := front.Client()
	round := func() {
		var wg sync.WaitGroup
		for range perRound {
			wg.Go(func() {
				resp, err := client.Get(front.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	round()
	for g := range generations {
		old := cur
		if old.open.Load() == 0 {
			t.Fatalf("generation %d: the proxy holds no connection to the backend to remove: the test proves nothing", g)
		}
		cur = start()
		if err := pool.Update(members(stay, cur)); err != nil {
			t.Fatal(err)
		}
		round()
		for i := 0; old.open.Load() != 0; i++ {
			if i == 2000 {
				t.Fatalf("generation %d: a backend removed from the pool still holds %d idle connections from the proxy", g, old.open.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if stay.open.Load() == 0 {
		t.Error("the backend that stayed in the pool lost its connections")
	}
	client.CloseIdleConnections()
}

// TestProxyClosesConnectionOfBackendRemovedMidRequest: a request that
// picked a backend just before an update removed it (its snapshot is the
// older one) still reaches it, and the proxy keeps no idle connection to
// it afterwards.
func TestProxyClosesConnectionOfBackendRemovedMidRequest(t *testing.T) {
	var open atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "removed")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other") }))
	t.Cleanup(other.Close)
	removed, _ := url.Parse(srv.URL)
	kept, _ := url.Parse(other.URL)
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Name: "removed", Value: removed}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	var once sync.Once
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, HashKey: func(*http.Request) string {
		// Called once the request has its snapshot: the update lands
		// between its pick and its send.
		once.Do(func() {
			if err := pool.Update([]lb.Backend[*url.URL]{{Name: "kept", Value: kept}}); err != nil {
				t.Error(err)
			}
		})
		return ""
	}})
	_, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL))
	if body != "removed" {
		t.Fatalf("body %q: the request did not reach the backend it picked before the update", body)
	}
	for i := 0; open.Load() != 0; i++ {
		if i == 2000 {
			t.Fatalf("the removed backend still holds %d connections from the proxy", open.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	front.Client().CloseIdleConnections()
}
