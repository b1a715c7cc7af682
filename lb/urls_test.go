package lb_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
)

func TestParseBackends(t *testing.T) {
	bs, err := lb.ParseBackends("http://10.0.0.1:8080", "https://api.internal/v1")
	if err != nil || len(bs) != 2 || bs[1].Value.Path != "/v1" || bs[0].Name != "http://10.0.0.1:8080" {
		t.Fatalf("ParseBackends: %v %v", bs, err)
	}
	for _, bad := range []string{"10.0.0.1:8080", "ftp://x", "http://", "http://u:p@x", "http://[::1"} {
		if _, err := lb.ParseBackends(bad); !errors.Is(err, lb.ErrInvalidOptions) || !strings.Contains(err.Error(), "URL") {
			t.Errorf("ParseBackends(%q): %v, want ErrInvalidOptions", bad, err)
		}
	}
}

func TestZeroPoolAndNilURL(t *testing.T) {
	var zero lb.Pool[string]
	if err := zero.Update(backends("a")); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Errorf("Update on a zero Pool: %v", err)
	}
	if _, _, err := zero.Pick(); !errors.Is(err, lb.ErrNoBackend) {
		t.Errorf("Pick on a zero Pool: %v", err)
	}
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Name: "nil"}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != http.StatusBadGateway {
		t.Errorf("nil backend URL: %d, want 502", code)
	}
}
