package lb_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// TestTransportHost: a backend receives its own host in the Host header,
// not the virtual host the request was addressed to, unless the caller set
// req.Host to something else or PreserveHost is set.
func TestTransportHost(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	tests := []struct {
		name     string
		tr       *lb.Transport
		reqHost  string // req.Host set by the caller, if not ""
		wantHost string
	}{
		{"virtual host replaced", &lb.Transport{Pool: pool}, "", bs[0].URL.Host},
		{"explicit Host kept", &lb.Transport{Pool: pool}, "api.example", "api.example"},
		{"PreserveHost", &lb.Transport{Pool: pool, PreserveHost: true}, "", "users.internal"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest("GET", "http://users.internal/me", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.reqHost != "" {
			req.Host = tt.reqHost
		}
		resp, err := (&http.Client{Transport: tt.tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != tt.wantHost {
			t.Errorf("%s: backend saw Host %q, want %q", tt.name, b, tt.wantHost)
		}
		if req.Host != tt.reqHost && !(tt.reqHost == "" && req.Host == "users.internal") {
			t.Errorf("%s: caller's request changed: Host %q", tt.name, req.Host)
		}
	}
}

// A request built without a Host (a struct literal, as RoundTrippers are
// often called) still sends its URL's host with PreserveHost.
func TestTransportPreserveHostWithoutReqHost(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	u, _ := url.Parse("http://users.internal/me")
	req := &http.Request{Method: "GET", URL: u, Header: http.Header{}}
	resp, err := (&lb.Transport{Pool: pool, PreserveHost: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "users.internal" {
		t.Errorf("backend saw Host %q, want users.internal", b)
	}
	if req.Host != "" {
		t.Errorf("caller's request changed: Host %q", req.Host)
	}
}
