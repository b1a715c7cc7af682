package lb_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// keyedTransport is a client-side balancer over two backends, b0 dying
// after reading each request and b1 echoing it, b0 picked first.
func keyedTransport(t *testing.T, ro lb.RetryOptions) (*lb.Transport, []*lbtest.Backend) {
	t.Helper()
	bs := lbtest.Start(t, 2)
	bs[0].Handle(dieAfterReading)
	bs[1].Handle(echoBody)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(),
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	return &lb.Transport{Pool: pool, Retry: ro}, bs
}

// A key of blanks is no key (HTTP strips a field value's surrounding
// whitespace, so the backend sees none and does not record the work): the
// POST is not resent.
func TestTransportBlankKeyIsNoKey(t *testing.T) {
	for _, key := range []string{" ", "\t", " \t "} {
		tr, bs := keyedTransport(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
		req := keyedReq(t, "POST", "http://svc/x", "", "payload", false)
		req.Header.Set("Idempotency-Key", key)
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err == nil {
			resp.Body.Close()
		}
		if err == nil || bs[1].Hits.Load() != 0 {
			t.Errorf("key %q: error %v, b1 hits %d; want b0's failure, not resent", key, err, bs[1].Hits.Load())
		}
	}
}

// A body that fails while it is buffered fails the request before any
// backend is tried, and the Transport closes it (RoundTripper's contract).
func TestTransportKeyedBodyReadErrorClosesBody(t *testing.T) {
	tr, bs := keyedTransport(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
	boom := errors.New("upload broke")
	body := &closeRecorder{Reader: io.MultiReader(strings.NewReader("part"), iotestErr{boom}), closed: make(chan struct{})}
	req, _ := http.NewRequest("POST", "http://svc/x", body)
	req.Header.Set("Idempotency-Key", "k")
	resp, err := tr.RoundTrip(req)
	if resp != nil {
		resp.Body.Close()
	}
	select {
	case <-body.closed:
	default:
		t.Error("body not closed")
	}
	if !errors.Is(err, boom) {
		t.Errorf("RoundTrip: %v, want the body's error", err)
	}
	if n := bs[0].Hits.Load() + bs[1].Hits.Load(); n != 0 {
		t.Errorf("backends hit %d times by a request whose body failed", n)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// A keyed POST whose answer has started to stream to the client is never
// sent again, even when the stream then breaks.
func TestProxyNeverResendsKeyedPostAfterResponseStarted(t *testing.T) {
	bs := lbtest.Start(t, 2)
	var hits atomic.Int64
	breakMidStream := func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	bs[0].Handle(breakMidStream)
	bs[1].Handle(breakMidStream)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(),
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"}})
	resp, err := front.Client().Do(keyedReq(t, "POST", front.URL, "k", "payload", false))
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if hits.Load() != 1 {
		t.Errorf("backends hit %d times, want 1: a streamed answer was resent", hits.Load())
	}
}

// A client sending Expect: 100-continue gets its keyed POST through, and
// resent after the first backend died with it.
func TestProxyKeyedPostWithExpectContinue(t *testing.T) {
	url, _, bs := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := "expected body"
	fmt.Fprintf(conn, "POST /x HTTP/1.1\r\nHost: svc\r\nIdempotency-Key: k\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n", len(body))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "100") {
		t.Fatalf("first line %q, %v; want 100 Continue", line, err)
	}
	br.ReadString('\n') // the blank line ending the 100
	io.WriteString(conn, body)
	resp, err := http.ReadResponse(br, nil)
	for err == nil && resp.StatusCode < 200 { // a backend's 100 passed on
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "POST k "+body || bs[1].Hits.Load() != 1 {
		t.Errorf("%d %q, b1 hits %d; want resent to b1 whole", resp.StatusCode, got, bs[1].Hits.Load())
	}
}

// A client that hangs up halfway through its keyed body reaches no backend
// (the proxy was still buffering it) and leaves nothing running.
func TestProxyKeyedBodyClientHangsUpWhileBuffering(t *testing.T) {
	url, _, bs := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "POST /x HTTP/1.1\r\nHost: svc\r\nIdempotency-Key: k\r\nContent-Length: 1000\r\n\r\nonly part of it")
	conn.Close()
	// A request after it is served whole: the proxy is not stuck.
	bs[0].Handle(echoBody)
	code, body, _ := get(t, http.DefaultClient, keyedReq(t, "POST", url, "k2", "next", false))
	if code != 200 || body != "POST k2 next" {
		t.Errorf("next request: %d %q", code, body)
	}
	if n := bs[0].Hits.Load() + bs[1].Hits.Load(); n != 1 {
		t.Errorf("backends hit %d times, want 1 (the next request only)", n)
	}
}

// A key the client marks hop-by-hop (Connection: Idempotency-Key) is
// removed before the backend sees it, so the request is not resent.
func TestProxyHopByHopKeyIsNoKey(t *testing.T) {
	url, c, bs := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
	req := keyedReq(t, "POST", url, "k", "payload", false)
	req.Header.Set("Connection", "Idempotency-Key")
	code, _, _ := get(t, c, req)
	if code != http.StatusBadGateway || bs[1].Hits.Load() != 0 {
		t.Errorf("%d, b1 hits %d; want 502 and not resent", code, bs[1].Hits.Load())
	}
}

// A keyed POST that reached a backend is resent only within Attempts and
// the budget, as an idempotent request is.
func TestProxyKeyedResendWithinAttemptsAndBudget(t *testing.T) {
	for _, ro := range []lb.RetryOptions{{Attempts: 1}, {Budget: -1}} {
		ro.IdempotencyKeyHeader = "Idempotency-Key"
		url, c, bs := keyedFront(t, ro)
		code, _, _ := get(t, c, keyedReq(t, "POST", url, "k", "payload", false))
		if code != http.StatusBadGateway || bs[1].Hits.Load() != 0 {
			t.Errorf("%+v: %d, b1 hits %d; want 502 and not resent", ro, code, bs[1].Hits.Load())
		}
	}
	// Attempts 2 over three backends all dying: two tries, not three.
	bs := lbtest.Start(t, 3)
	for _, b := range bs {
		b.Handle(dieAfterReading)
	}
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key", Attempts: 2}})
	get(t, front.Client(), keyedReq(t, "POST", front.URL, "k", "payload", false))
	if n := bs[0].Hits.Load() + bs[1].Hits.Load() + bs[2].Hits.Load(); n != 2 {
		t.Errorf("%d tries, want 2 (Attempts)", n)
	}
}
