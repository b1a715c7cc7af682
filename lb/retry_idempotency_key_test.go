package lb_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// dieAfterReading makes a backend read the whole request and then drop the
// connection without an answer, as a process SIGKILLed mid-request does.
func dieAfterReading(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func echoBody(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	io.WriteString(w, r.Method+" "+r.Header.Get("Idempotency-Key")+" "+string(b))
}

// keyedFront is a proxy over two backends, b0 dying after reading each
// request and b1 echoing it, b0 picked first.
func keyedFront(t *testing.T, ro lb.RetryOptions) (string, *http.Client, []*lbtest.Backend) {
	t.Helper()
	bs := lbtest.Start(t, 2)
	bs[0].Handle(dieAfterReading)
	bs[1].Handle(echoBody)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(),
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: ro})
	return front.URL, front.Client(), bs
}

func keyedReq(t *testing.T, method, url, key, body string, chunked bool) *http.Request {
	t.Helper()
	req := mustReq(t, method, url)
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length: sent chunked
		req.ContentLength = -1
	} else {
		req.ContentLength = int64(len(body))
	}
	req.Body = io.NopCloser(r)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return req
}

// A POST carrying an idempotency key that reached a backend which died
// with it is resent, with the same body and key, to another backend.
func TestProxyResendsKeyedPostAfterBackendDied(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		url, c, bs := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
		code, body, _ := get(t, c, keyedReq(t, "POST", url, `"k-1"`, `{"body":"hello"}`, chunked))
		if code != 200 || body != `POST "k-1" {"body":"hello"}` {
			t.Errorf("chunked %v: %d %q, want 200 from b1 with the same key and body", chunked, code, body)
		}
		if bs[0].Hits.Load() != 1 || bs[1].Hits.Load() != 1 {
			t.Errorf("chunked %v: hits b0 %d b1 %d, want 1 and 1", chunked, bs[0].Hits.Load(), bs[1].Hits.Load())
		}
	}
}

// Without the key, or with the option off, the POST is not sent twice.
func TestProxyDoesNotResendUnkeyedPost(t *testing.T) {
	for _, tc := range []struct {
		name string
		ro   lb.RetryOptions
		key  string
	}{
		{"no key", lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"}, ""},
		{"option off", lb.RetryOptions{}, "k-1"},
	} {
		url, c, bs := keyedFront(t, tc.ro)
		code, _, _ := get(t, c, keyedReq(t, "POST", url, tc.key, "payload", false))
		if code != http.StatusBadGateway || bs[1].Hits.Load() != 0 {
			t.Errorf("%s: %d, b1 hits %d; want 502 and not resent", tc.name, code, bs[1].Hits.Load())
		}
	}
}

// A keyed body larger than ReplayBodyLimit is not buffered, so not resent;
// the backend still receives it whole.
func TestProxyDoesNotResendKeyedBodyOverLimit(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		url, c, bs := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key", ReplayBodyLimit: 16})
		code, _, _ := get(t, c, keyedReq(t, "POST", url, "k", strings.Repeat("x", 17), chunked))
		if code != http.StatusBadGateway || bs[1].Hits.Load() != 0 {
			t.Errorf("chunked %v: %d, b1 hits %d; want 502 and not resent", chunked, code, bs[1].Hits.Load())
		}
		// At the limit, it is.
		bs[0].Handle(dieAfterReading)
		code, body, _ := get(t, c, keyedReq(t, "POST", url, "k", strings.Repeat("y", 16), chunked))
		if code != 200 || body != "POST k "+strings.Repeat("y", 16) {
			t.Errorf("chunked %v: body at the limit: %d %q, want resent", chunked, code, body)
		}
	}
	// The backend receives an over-limit body whole (what was read to
	// measure it is sent first).
	bs := lbtest.Start(t, 1)
	bs[0].Handle(echoBody)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key", ReplayBodyLimit: 16}})
	long := strings.Repeat("0123456789", 10)
	if code, body, _ := get(t, front.Client(), keyedReq(t, "POST", front.URL, "k", long, true)); code != 200 || body != "POST k "+long {
		t.Errorf("over-limit chunked body: %d %q, want it whole", code, body)
	}
}

// A PUT is idempotent, but one with a body is resent only under the same
// rule as a POST: it carries the key and its body fits the limit.
func TestProxyResendsPutWithBodyOnlyWhenKeyed(t *testing.T) {
	url, c, bs := keyedFront(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
	if code, _, _ := get(t, c, keyedReq(t, "PUT", url, "", "v", false)); code != http.StatusBadGateway || bs[1].Hits.Load() != 0 {
		t.Errorf("unkeyed PUT with a body: %d, b1 hits %d; want 502, not resent", code, bs[1].Hits.Load())
	}
	if code, body, _ := get(t, c, keyedReq(t, "PUT", url, "k", "v", false)); code != 200 || body != "PUT k v" {
		t.Errorf("keyed PUT with a body: %d %q, want resent", code, body)
	}
}

// The client-side Transport follows the same rule.
func TestTransportResendsKeyedPost(t *testing.T) {
	bs := lbtest.Start(t, 2)
	bs[0].Handle(dieAfterReading)
	bs[1].Handle(echoBody)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.FirstAvailable(),
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	c := &http.Client{Transport: &lb.Transport{Pool: pool, Retry: lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"}}}
	code, body, _ := get(t, c, keyedReq(t, "POST", "http://svc/x", "k", "payload", false))
	if code != 200 || body != "POST k payload" {
		t.Errorf("%d %q, want resent to b1", code, body)
	}
}

func TestRetryIdempotencyOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		ro    lb.RetryOptions
		field string
	}{
		{lb.RetryOptions{ReplayBodyLimit: -1}, "Retry.ReplayBodyLimit"},
		{lb.RetryOptions{IdempotencyKeyHeader: "Idempotency Key"}, "Retry.IdempotencyKeyHeader"},
		{lb.RetryOptions{IdempotencyKeyHeader: "Key:"}, "Retry.IdempotencyKeyHeader"},
	} {
		err := (&lb.Proxy{Retry: tc.ro}).Validate()
		if !errors.Is(err, lb.ErrInvalidOptions) || !strings.Contains(fmt.Sprint(err), tc.field) {
			t.Errorf("%+v: %v, want ErrInvalidOptions naming %s", tc.ro, err, tc.field)
		}
	}
}
