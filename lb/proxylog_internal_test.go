package lb

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestProxyErrorLogCarriesNoURL: paths and query strings can hold tokens, so
// a failed proxied request logs neither, not even through the *url.Error the
// transport returns.
func TestProxyErrorLogCarriesNoURL(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens: every attempt fails to connect

	pool, err := NewPool([]Backend[*url.URL]{{Value: &url.URL{Scheme: "http", Host: dead}}},
		PoolOptions{Outlier: OutlierOptions{Consecutive: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var logs bytes.Buffer
	p := &Proxy{Pool: pool, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://lb.example/reset/s3cr3t-path?token=s3cr3t-query", nil))

	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rec.Code)
	}
	if !strings.Contains(logs.String(), "lb: proxy error") {
		t.Fatalf("the failure was not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Fatalf("the log carries the request URL: %q", logs.String())
	}
	if strings.Contains(rec.Body.String(), dead) || strings.Contains(rec.Body.String(), "s3cr3t") {
		t.Fatalf("the response leaks detail: %q", rec.Body.String())
	}
}

// TestProxyDefaultTransportIgnoresEnvironmentProxy: backends sit next to the
// proxy; an HTTP_PROXY meant for outbound traffic must not capture them.
func TestProxyDefaultTransportIgnoresEnvironmentProxy(t *testing.T) {
	pool, err := NewPool([]Backend[*url.URL]{{Value: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}}}, PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	p := &Proxy{Pool: pool}
	p.once.Do(p.init)
	if p.err != nil {
		t.Fatal(p.err)
	}
	a, ok := p.rp.Transport.(*attempts)
	if !ok {
		t.Fatalf("transport is %T", p.rp.Transport)
	}
	bt, ok := a.base.(*backendTransports)
	if !ok {
		t.Fatalf("base transport is %T", a.base)
	}
	if tr := bt.proto; tr.Proxy != nil {
		t.Fatal("the default backend transport honours HTTP_PROXY")
	}
}
