package lb_test

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// A backend that answers nothing while another answers is ejected, and the
// GETs waiting on it are served by the other; POSTs are not resent.
func TestProxyEjectsHungBackend(t *testing.T) {
	bs := lbtest.Start(t, 2)
	release := make(chan struct{})
	defer close(release)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{StallTimeout: 50 * time.Millisecond}})
	client := front.Client()
	client.Timeout = 10 * time.Second // before hung backends were detected, these waited forever
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for range 4 {
		wg.Go(func() {
			for range 10 {
				resp, err := client.Get(front.URL)
				if err != nil {
					errs <- err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != "b1" {
					errs <- fmt.Sprintf("%d %q", resp.StatusCode, b)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("request: %s, want 200 from b1", e)
	}
	if h, _ := pool.Healthy(); h != 1 {
		t.Errorf("%d healthy, want the hung backend ejected", h)
	}
}

// A backend slow on one request but answering others is not hung, and a
// fleet slow everywhere has nobody overtaking it: nothing is ejected and
// nothing is sent twice.
func TestProxySlowIsNotHung(t *testing.T) {
	for _, slowAll := range []bool{false, true} {
		bs := lbtest.Start(t, 2)
		for _, b := range bs {
			b.Handle(func(w http.ResponseWriter, r *http.Request) {
				if slowAll || r.URL.Path == "/slow" {
					time.Sleep(300 * time.Millisecond)
				}
			})
		}
		pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
		front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{StallTimeout: 50 * time.Millisecond}})
		var wg sync.WaitGroup
		for i := range 4 {
			wg.Go(func() {
				path := "/fast"
				if i == 0 {
					path = "/slow"
				}
				for range 3 {
					resp, err := front.Client().Get(front.URL + path)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("slowAll %v: %s: %d", slowAll, path, resp.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		if h, _ := pool.Healthy(); h != 2 {
			t.Errorf("slowAll %v: %d healthy, want 2: a slow backend was judged hung", slowAll, h)
		}
		if n := bs[0].Hits.Load() + bs[1].Hits.Load(); n != 12 {
			t.Errorf("slowAll %v: %d requests reached backends, want 12: some were sent twice", slowAll, n)
		}
	}
}

// A client giving up after StallTimeout on a backend that answered nothing
// meanwhile counts as a failure of the backend (a client leaving sooner
// does not: see TestClientLeavingBeforeHeadersIsNotABackendFailure).
func TestClientGivingUpOnSilentBackendCounts(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: 2}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{StallTimeout: 20 * time.Millisecond}})
	client := front.Client()
	client.Timeout = 100 * time.Millisecond
	for range 2 {
		if resp, err := client.Get(front.URL); err == nil {
			resp.Body.Close()
			t.Fatal("the silent backend answered")
		}
	}
	for i := 0; ; i++ { // the proxy sees the client leave a moment later
		if h, _ := pool.Healthy(); h == 0 {
			break
		}
		if i == 1000 {
			t.Fatal("two clients gave up on a silent backend: not ejected")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// At low traffic a backend busy with one slow request answers nothing
// meanwhile only because it was given nothing else to answer: another
// backend answering a quick request sent later does not make it hung. It
// stays in rotation and the slow GET is not sent twice.
func TestProxyLoneSlowRequestIsNotHung(t *testing.T) {
	bs := lbtest.Start(t, 2)
	started := make(chan string, 4)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				started <- b.Name
				time.Sleep(400 * time.Millisecond)
			}
		})
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{StallTimeout: 50 * time.Millisecond}})
	slow := make(chan int, 1)
	go func() {
		resp, err := front.Client().Get(front.URL + "/slow")
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	busy := <-started
	// One quick request, answered by the other backend (round robin).
	resp, err := front.Client().Get(front.URL + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Backend"); got == busy {
		t.Fatalf("the quick request went to the busy backend %s", got)
	}
	if code := <-slow; code != 200 {
		t.Errorf("slow GET: status %d, want 200", code)
	}
	if h, _ := pool.Healthy(); h != 2 {
		t.Errorf("%d healthy, want 2: the backend busy with the slow request was judged hung", h)
	}
	if n := len(started); n != 0 {
		t.Errorf("the slow GET was sent %d more times", n)
	}
}
