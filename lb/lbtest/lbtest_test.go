package lbtest_test

import (
	"io"
	"net/http"
	"testing"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackends(t *testing.T) {
	bs := lbtest.Start(t, 2)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{})
	c := &http.Client{Transport: &lb.Transport{Pool: pool, Retry: lb.RetryOptions{Attempts: 1}}}
	seen := map[string]bool{}
	for range 4 {
		resp, err := c.Get("http://svc/")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("X-Backend") != string(b) {
			t.Errorf("X-Backend %q, body %q", resp.Header.Get("X-Backend"), b)
		}
		seen[string(b)] = true
	}
	if !seen["b0"] || !seen["b1"] || bs[0].Hits.Load() != 2 {
		t.Errorf("seen %v, b0 hits %d", seen, bs[0].Hits.Load())
	}
	bs[0].Kill()
	bs[0].Kill() // idempotent
	// A killed backend refuses connections: requests never reach it, so
	// they go to the other one even with retries (Attempts 1) off.
	hits := bs[1].Hits.Load()
	for range 4 {
		resp, err := c.Get("http://svc/")
		if err != nil {
			t.Fatalf("a request failed after the kill: %v", err)
		}
		resp.Body.Close()
	}
	if n := bs[1].Hits.Load() - hits; n != 4 {
		t.Errorf("the live backend served %d of 4 requests after the kill", n)
	}
	c.CloseIdleConnections()
}

func TestHandleNilRestoresDefault(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "custom") })
	bs[0].Handle(nil)
	resp, err := http.Get(bs[0].URL.String())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "b0" {
		t.Errorf("body %q, want the default b0", b)
	}
	http.DefaultClient.CloseIdleConnections()
}
