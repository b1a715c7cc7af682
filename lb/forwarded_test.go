package lb_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func TestParseTrustedMappedPrefix(t *testing.T) {
	tr, err := lb.ParseTrusted("::ffff:10.0.0.0/104")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:80"
	r.Header.Set("X-Forwarded-For", "1.1.1.1")
	if got := lb.ClientIP(r, tr).String(); got != "1.1.1.1" {
		t.Errorf("ClientIP = %s: an IPv4-mapped prefix trusts nothing", got)
	}
}

func TestClientIPKeyOfUnparseablePeerIsEmpty(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@" // a unix socket peer
	if k := lb.ClientIPKey(nil)(r); k != "" {
		t.Errorf("key %q: every such request would hash to one backend", k)
	}
}

func TestProxyZonedPeer(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoHeaders)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	h := &lb.Proxy{Pool: pool, Logger: quiet}
	r := httptest.NewRequest("GET", "http://front.example/", nil)
	r.RemoteAddr = "[fe80::1%eth0]:4242"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Body.String(); got != "xff=fe80::1 host=front.example proto=http real=fe80::1" {
		t.Errorf("backend saw %q: a zone is no part of an address a backend can parse", got)
	}
}
