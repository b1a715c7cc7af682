package lb_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func TestTransport(t *testing.T) {
	bs := lbtest.Start(t, 3)
	bs[2].Kill()
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	c := &http.Client{Transport: &lb.Transport{Pool: pool}}
	got := map[string]int{}
	for range 30 {
		resp, err := c.Get("http://users.internal/me")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got[string(b)]++
	}
	if got["b0"] == 0 || got["b1"] == 0 || got["b0"]+got["b1"] != 30 {
		t.Errorf("spread %v, want all 30 on b0 and b1 (b2 is dead, retried)", got)
	}
}

func TestTransportPathPrefixAndErrors(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.RequestURI()) })
	prefixed := *bs[0].URL
	prefixed.Path = "/api/"
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: &prefixed}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c := &http.Client{Transport: &lb.Transport{Pool: pool}}
	resp, err := c.Get("http://svc/v1/me?x=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "/api/v1/me?x=1" {
		t.Errorf("backend saw %q", b)
	}
	empty := &http.Client{Transport: &lb.Transport{}}
	if _, err := empty.Get("http://svc/"); !errors.Is(err, lb.ErrNoBackend) {
		t.Errorf("no pool: %v", err)
	}
	bad := &http.Client{Transport: &lb.Transport{Pool: pool, Retry: lb.RetryOptions{Attempts: -1}}}
	if _, err := bad.Get("http://svc/"); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Errorf("bad retry options: %v", err)
	}
}

// A request without a URL is an error, as from http.Transport, not a panic.
func TestTransportNilURL(t *testing.T) {
	bs := lbtest.Start(t, 1)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	for _, preserve := range []bool{false, true} {
		for _, host := range []string{"", "users.internal"} {
			resp, err := (&lb.Transport{Pool: pool, PreserveHost: preserve}).RoundTrip(&http.Request{Method: "GET", Host: host, Header: http.Header{}})
			if err == nil {
				resp.Body.Close()
				t.Errorf("PreserveHost %v, Host %q: no error", preserve, host)
			}
		}
	}
}
