package lb_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// rawGet sends a request with exactly the given header lines, so that
// spellings net/http would not produce (underscores, repeats) reach the proxy.
func rawGet(t *testing.T, addr, target string, headers ...string) string {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: front.example\r\nConnection: close\r\n", target)
	for _, h := range headers {
		fmt.Fprintf(conn, "%s\r\n", h)
	}
	fmt.Fprint(conn, "\r\n")
	b, _ := io.ReadAll(conn)
	_, body, _ := strings.Cut(string(b), "\r\n\r\n")
	return body
}

func TestProxyStripsOtherForwardingHeadersFromUntrustedPeers(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		var got []string
		for k, v := range r.Header {
			if lk := strings.ToLower(k); strings.Contains(lk, "forwarded") || strings.Contains(lk, "real") {
				got = append(got, k+"="+strings.Join(v, "|"))
			}
		}
		fmt.Fprint(w, strings.Join(got, ";"))
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	body := rawGet(t, front.URL, "/",
		"X-Forwarded-Port: 443", "X-Forwarded-Prefix: /admin", "X-Forwarded-Server: evil",
		"X-Forwarded-Ssl: on", "X_Forwarded_For: 6.6.6.6", "X-Real_IP: 6.6.6.6", "x_forwarded_host: evil")
	for _, bad := range []string{"443", "/admin", "evil", "Ssl", "6.6.6.6"} {
		if strings.Contains(body, bad) {
			t.Errorf("backend saw spoofed %q: %s", bad, body)
		}
	}
}

func TestProxyForwardedHostFromTrustedPeerIsValidated(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoHeaders)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	loopback, _ := lb.ParseTrusted("127.0.0.1")
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, TrustedProxies: loopback})
	for _, tt := range []struct {
		hdrs []string
		want string
	}{
		{[]string{"X-Forwarded-Host: a.example"}, "host=a.example"},
		{[]string{"X-Forwarded-Host: evil.example, a.example"}, "host=a.example"},
		{[]string{"X-Forwarded-Host: evil.example", "X-Forwarded-Host: a.example"}, "host=a.example"},
		{[]string{"X-Forwarded-Host: a b"}, "host=front.example"},
		{[]string{"X-Forwarded-Proto: http, https"}, "proto=https"},
		{[]string{"X-Forwarded-Proto: https", "X-Forwarded-Proto: gopher"}, "proto=http"},
	} {
		if body := rawGet(t, front.URL, "/", tt.hdrs...); !strings.Contains(body, tt.want+" ") {
			t.Errorf("%q: backend saw %q, want %s", tt.hdrs, body, tt.want)
		}
	}
}

// An h2c upgrade tunnelled to a backend would let the client send HTTP/2
// requests the proxy never sees (h2c smuggling): it must not be forwarded.
func TestProxyRefusesH2CUpgrade(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upgrade=%q settings=%q", r.Header.Get("Upgrade"), r.Header.Get("Http2-Settings"))
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	for _, up := range []string{"h2c", "H2C", "websocket, h2c"} {
		body := rawGet(t, front.URL, "/", "Connection: Upgrade, HTTP2-Settings", "Upgrade: "+up, "HTTP2-Settings: AAMAAABkAAQAAP__")
		if body != `upgrade="" settings=""` {
			t.Errorf("Upgrade: %s: backend saw %s", up, body)
		}
	}
}

// clientIPHeaders are headers backends and frameworks read a client's
// address from, with a spoofed value each.
var clientIPHeaders = []string{
	"True-Client-IP: 6.6.6.1", "X-Client-IP: 6.6.6.2", "CF-Connecting-IP: 6.6.6.3",
	"X-Cluster-Client-IP: 6.6.6.4", "X-Original-Forwarded-For: 6.6.6.5", "X-Forwarded: for=6.6.6.6",
	"Forwarded: for=6.6.6.7;proto=https", "Fastly-Client-IP: 6.6.6.8", "X-Real-IP: 6.6.6.9",
	"True_Client_IP: 6.6.6.10", "Client-IP: 6.6.6.11",
}

// TestProxyClientIPHeaders: the headers naming a client's address reach a
// backend only from a trusted proxy; from any other peer they are
// dropped (X-Real-IP is replaced by the proxy's own). Spellings with
// underscores, and Forwarded, are dropped from every peer.
func TestProxyClientIPHeaders(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		var got []string
		for k, v := range r.Header {
			got = append(got, k+"="+strings.Join(v, "|"))
		}
		slices.Sort(got)
		fmt.Fprint(w, strings.Join(got, ";"))
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	loopback, _ := lb.ParseTrusted("127.0.0.1")

	untrusted := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	body := rawGet(t, untrusted.URL, "/", clientIPHeaders...)
	for i := 1; i <= 11; i++ {
		if spoof := fmt.Sprintf("6.6.6.%d", i); strings.Contains(body+";", spoof+";") || strings.Contains(body, spoof+"|") || strings.Contains(body, spoof+";proto") {
			t.Errorf("untrusted peer: backend saw spoofed %s: %s", spoof, body)
		}
	}

	trusted := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, TrustedProxies: loopback})
	body = rawGet(t, trusted.URL, "/", clientIPHeaders...)
	for _, h := range []string{"True-Client-Ip=6.6.6.1", "X-Client-Ip=6.6.6.2", "Cf-Connecting-Ip=6.6.6.3",
		"X-Cluster-Client-Ip=6.6.6.4", "X-Original-Forwarded-For=6.6.6.5", "X-Forwarded=for=6.6.6.6",
		"Fastly-Client-Ip=6.6.6.8", "Client-Ip=6.6.6.11"} {
		if !strings.Contains(body, h) {
			t.Errorf("trusted peer: backend did not see %s: %s", h, body)
		}
	}
	if strings.Contains(body, "6.6.6.10") || strings.Contains(body, "6.6.6.9") || strings.Contains(body, "6.6.6.7") {
		t.Errorf("trusted peer: underscore spelling, Forwarded or foreign X-Real-IP reached the backend: %s", body)
	}
}

// Headers that make Symfony, Zend or IIS URL Rewrite serve another path than
// the one the proxy cleaned reach backends only from trusted proxies.
func TestProxyPathOverrideHeaders(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q %q", r.Header.Get("X-Original-URL"), r.Header.Get("X-Rewrite-URL"))
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	headers := []string{"X-Original-URL: /admin", "X-Rewrite-URL: /admin"}

	untrusted := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	if body := rawGet(t, untrusted.URL, "/", headers...); body != `"" ""` {
		t.Errorf("untrusted peer: backend saw path overrides: %s", body)
	}
	loopback, _ := lb.ParseTrusted("127.0.0.1")
	trusted := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, TrustedProxies: loopback})
	if body := rawGet(t, trusted.URL, "/", headers...); body != `"/admin" "/admin"` {
		t.Errorf("trusted peer: backend did not see the path overrides: %s", body)
	}
}
