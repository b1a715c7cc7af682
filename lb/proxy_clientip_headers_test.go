package lb_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

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
