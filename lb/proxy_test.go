package lb_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

var quiet = slog.New(slog.DiscardHandler)

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, c *http.Client, req *http.Request) (int, string, http.Header) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestProxyZeroValueRoundRobin(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool})
	got := map[string]int{}
	for range 30 {
		code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL+"/x"))
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		got[body]++
	}
	for _, b := range bs {
		if got[b.Name] != 10 {
			t.Errorf("%s served %d of 30", b.Name, got[b.Name])
		}
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// echoHeaders answers with the forwarding headers it received.
func echoHeaders(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "xff=%s host=%s proto=%s real=%s", r.Header.Get("X-Forwarded-For"),
		r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Real-Ip"))
}

func TestProxyForwardedHeaders(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoHeaders)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	loopback, _ := lb.ParseTrusted("127.0.0.0/8")
	tests := []struct {
		name    string
		trusted lb.Trusted
		xff     string
		conn    string
		want    string
	}{
		{"untrusted spoof ignored", nil, "6.6.6.6", "", "xff=127.0.0.1 host=front.example proto=http real=127.0.0.1"},
		{"connection header cannot strip", nil, "6.6.6.6", "X-Forwarded-For, X-Forwarded-Host, X-Real-Ip", "xff=127.0.0.1 host=front.example proto=http real=127.0.0.1"},
		{"trusted chain kept", loopback, "1.2.3.4, 10.0.0.1", "", "xff=1.2.3.4, 10.0.0.1, 127.0.0.1 host=orig.example proto=https real=10.0.0.1"},
		{"trusted garbage dropped", loopback, "<script>, 1.2.3.4", "", "xff=1.2.3.4, 127.0.0.1 host=orig.example proto=https real=1.2.3.4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			front := serve(t, &lb.Proxy{Pool: pool, TrustedProxies: tt.trusted})
			req := mustReq(t, "GET", front.URL)
			req.Host = "front.example"
			req.Header.Set("X-Forwarded-For", tt.xff)
			req.Header.Set("X-Forwarded-Host", "orig.example")
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Real-IP", "6.6.6.6")
			if tt.conn != "" {
				req.Header.Set("Connection", tt.conn)
			}
			_, body, _ := get(t, front.Client(), req)
			if body != tt.want {
				t.Errorf("backend saw %q, want %q", body, tt.want)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	trusted, err := lb.ParseTrusted("10.0.0.0/8", "192.168.1.1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ remote, xff, want string }{
		{"203.0.113.9:1234", "1.1.1.1", "203.0.113.9"},
		{"10.1.2.3:1234", "1.1.1.1", "1.1.1.1"},
		{"10.1.2.3:1234", "1.1.1.1, 2.2.2.2, 192.168.1.1", "2.2.2.2"},
		{"10.1.2.3:1234", "", "10.1.2.3"},
		{"10.1.2.3:1234", "garbage", "10.1.2.3"},
		{"[::ffff:10.0.0.1]:80", "[2001:db8::1]:443", "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := lb.ClientIP(r, trusted).String(); got != tt.want {
			t.Errorf("ClientIP(%s, %q) = %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
	if _, err := lb.ParseTrusted("10.0.0.0/33"); err == nil {
		t.Error("bad CIDR accepted")
	}
}

func TestProxyRetriesOnDifferentBackend(t *testing.T) {
	bs := lbtest.Start(t, 3)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{MinRetries: 100}})
	for range 30 {
		if code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != 200 || body == "b0" {
			t.Fatalf("GET: %d %q", code, body)
		}
	}
	if n := bs[0].Hits.Load(); n == 0 {
		t.Error("failing backend never tried: the test proves nothing")
	}
	// POST is not replayable: its 503 reaches the client.
	failed := 0
	for range 3 {
		if code, _, _ := get(t, front.Client(), mustReq(t, "POST", front.URL)); code == 503 {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d POSTs failed, want 1: POST is never retried", failed)
	}
}

func TestProxyRetryBudget(t *testing.T) {
	bs := lbtest.Start(t, 2)
	for _, b := range bs {
		b.Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{MinRetries: 5, Budget: 0.1}})
	for range 20 {
		get(t, front.Client(), mustReq(t, "GET", front.URL))
	}
	// 20 requests: 5 reserve retries, then 0.1 per request (one more by the 10th).
	hits := bs[0].Hits.Load() + bs[1].Hits.Load()
	if hits < 26 || hits > 28 {
		t.Errorf("%d attempts for 20 requests, want 20 + about 7 retries", hits)
	}
}

func TestProxyErrorsHideDetail(t *testing.T) {
	empty, _ := lb.NewPool[*url.URL](nil, lb.PoolOptions{})
	defer empty.Close()
	front := serve(t, &lb.Proxy{Pool: nil, Logger: quiet})
	if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != 503 {
		t.Errorf("nil pool: %d, want 503", code)
	}
	bs := lbtest.Start(t, 2)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	for _, b := range bs {
		b.Kill()
	}
	front = serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL))
	if code != 502 || strings.Contains(body, "127.0.0.1") || strings.Contains(body, "refused") {
		t.Errorf("dead backends: %d %q, want a bare 502", code, body)
	}
}

func TestProxyPerTryTimeout(t *testing.T) {
	bs := lbtest.Start(t, 2)
	release := make(chan struct{})
	defer close(release)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable()})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{PerTryTimeout: 300 * time.Millisecond}})
	if code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != 200 || body != "b1" {
		t.Errorf("got %d %q, want b1 after b0 timed out", code, body)
	}
}

func TestProxyKillOneOfThreeLosesNothing(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.LeastRequest()})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	const workers, each = 8, 150
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if w == 0 && i == each/3 {
					bs[1].Kill()
				}
				resp, err := front.Client().Get(front.URL)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					failures = append(failures, resp.Status)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed: %v", len(failures), workers*each, failures[0])
	}
	if h, _ := pool.Healthy(); h != 2 {
		t.Errorf("killed backend not ejected: %d healthy", h)
	}
}

func TestProxyStickyCookie(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet,
		Sticky: &lb.StickyOptions{Key: []byte("0123456789abcdef0123")}})
	_, first, h := get(t, front.Client(), mustReq(t, "GET", front.URL))
	cookie := h.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "lb_sticky=") || strings.Contains(cookie, first) {
		t.Fatalf("Set-Cookie %q: want an opaque lb_sticky", cookie)
	}
	value := strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], "lb_sticky=")
	withCookie := func(v string) (string, string) {
		req := mustReq(t, "GET", front.URL)
		req.AddCookie(&http.Cookie{Name: "lb_sticky", Value: v})
		_, body, h := get(t, front.Client(), req)
		return body, h.Get("Set-Cookie")
	}
	for range 10 {
		if body, set := withCookie(value); body != first || set != "" {
			t.Fatalf("sticky request went to %s (Set-Cookie %q), want %s", body, set, first)
		}
	}
	if _, set := withCookie("forged" + value[6:]); set == "" {
		t.Error("forged cookie accepted")
	}
	pool.SetDown(first, true)
	body, set := withCookie(value)
	if body == first || set == "" {
		t.Errorf("backend down: served by %s, Set-Cookie %q; want another and a new cookie", body, set)
	}
}

func TestProxyStickyBadKey(t *testing.T) {
	bs := lbtest.Start(t, 1)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Sticky: &lb.StickyOptions{Key: []byte("short")}})
	if code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != 500 || strings.Contains(body, "Key") {
		t.Errorf("short key: %d %q, want a bare 500", code, body)
	}
}

func TestProxyUpgradeAndStreaming(t *testing.T) {
	bs := lbtest.Start(t, 1)
	step := make(chan struct{})
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "echo" {
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "echo")
			w.WriteHeader(http.StatusSwitchingProtocols)
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			line, _ := brw.ReadString('\n')
			brw.WriteString("echo: " + line)
			brw.Flush()
			return
		}
		fmt.Fprint(w, "first\n")
		http.NewResponseController(w).Flush()
		<-step
		fmt.Fprint(w, "second\n")
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})

	// Streaming: the first chunk arrives while the backend still waits.
	resp, err := front.Client().Get(front.URL)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	if line, _ := r.ReadString('\n'); line != "first\n" {
		t.Errorf("first chunk %q", line)
	}
	close(step)
	if line, _ := r.ReadString('\n'); line != "second\n" {
		t.Errorf("second chunk %q", line)
	}
	resp.Body.Close()

	// Upgrade: a raw connection through the proxy.
	conn, err := net.Dial("tcp", strings.TrimPrefix(front.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	up, err := http.ReadResponse(br, nil)
	if err != nil || up.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", up, err)
	}
	fmt.Fprint(conn, "hello\n")
	if line, _ := br.ReadString('\n'); line != "echo: hello\n" {
		t.Errorf("through the upgraded connection: %q", line)
	}
}

func TestProxyHashKey(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.Hash(lb.HashOptions{})})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, HashKey: lb.HeaderKey("X-User")})
	owner := map[string]string{}
	for i := range 30 {
		user := fmt.Sprint("u", i%5)
		req := mustReq(t, "GET", front.URL)
		req.Header.Set("X-User", user)
		_, body, _ := get(t, front.Client(), req)
		if prev, ok := owner[user]; ok && prev != body {
			t.Fatalf("%s moved from %s to %s", user, prev, body)
		}
		owner[user] = body
	}
}

func TestProxyRetryKeepsPathPrefix(t *testing.T) {
	bs := lbtest.Start(t, 2)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	bs[1].Handle(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.URL.Path) })
	var members []lb.Backend[*url.URL]
	for _, b := range bs {
		u := *b.URL
		u.Path = "/api"
		members = append(members, lb.Backend[*url.URL]{Name: b.Name, Value: &u})
	}
	pool, err := lb.NewPool(members, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable()})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	if code, body, _ := get(t, front.Client(), mustReq(t, "GET", front.URL+"/v1/x")); code != 200 || body != "/api/v1/x" {
		t.Errorf("after a retry the backend saw %d %q, want /api/v1/x", code, body)
	}
}

func TestProxyDoesNotRetryOnTheSameBackend(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet})
	if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != 503 {
		t.Errorf("status %d", code)
	}
	if n := bs[0].Hits.Load(); n != 1 {
		t.Errorf("the only backend was tried %d times, want 1: retries go to a different backend", n)
	}
}

func TestProxyEmptyHashKeySpreads(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.Hash(lb.HashOptions{})})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, HashKey: lb.HeaderKey("X-User")})
	for range 60 {
		get(t, front.Client(), mustReq(t, "GET", front.URL))
	}
	for _, b := range bs {
		if b.Hits.Load() == 0 {
			t.Errorf("requests without a key all went to one backend: %s got none", b.Name)
		}
	}
}
