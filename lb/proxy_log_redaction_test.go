package lb_test

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/lb"
)

// echoLineBackend is a raw TCP backend answering every request with a
// malformed header: the request line itself, as some broken servers echo it.
func echoLineBackend(t *testing.T) *url.URL {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\n" + strings.TrimSpace(line) + "\r\nContent-Length: 0\r\n\r\n"))
			})
		}
	})
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}
}

// TestProxyLogRedactsEchoedRequestLine: an error quoting the request line
// (here a malformed header echoing it) reaches the log without the query
// string or userinfo, whatever the error's type.
func TestProxyLogRedactsEchoedRequestLine(t *testing.T) {
	u := echoLineBackend(t)
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: u}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var logs bytes.Buffer
	var mu sync.Mutex
	front := serve(t, &lb.Proxy{Pool: pool, Retry: lb.RetryOptions{Attempts: 1},
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL+"/reset?token=s3cr3t-query&x=1"))
	if code != 502 || strings.Contains(body, "s3cr3t") {
		t.Errorf("answered %d %q, want a bare 502", code, body)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "malformed") {
		t.Fatalf("the malformed header was not logged: %q", logs.String())
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("the log carries the query string: %q", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
