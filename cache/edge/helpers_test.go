package edge_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/cache/edge"
)

// clock is a fake wall clock the tests advance instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// origin is a scripted origin handler counting its requests.
type origin struct {
	n       atomic.Int64
	mu      sync.Mutex
	last    *http.Request
	handler func(w http.ResponseWriter, r *http.Request)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.n.Add(1)
	o.mu.Lock()
	o.last = r
	h := o.handler
	o.mu.Unlock()
	h(w, r)
}

func (o *origin) set(h func(w http.ResponseWriter, r *http.Request)) {
	o.mu.Lock()
	o.handler = h
	o.mu.Unlock()
}

func (o *origin) lastReq() *http.Request { o.mu.Lock(); defer o.mu.Unlock(); return o.last }

// fixed answers with the given headers and body; the Date is the clock's.
func fixed(clk *clock, body string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", clk.Now().UTC().Format(http.TimeFormat))
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Add(hdr[i], hdr[i+1])
		}
		io.WriteString(w, body)
	}
}

type env struct {
	t   *testing.T
	clk *clock
	org *origin
	c   *edge.Cache
}

func newEnv(t *testing.T, opts edge.Options) *env {
	t.Helper()
	e := &env{t: t, clk: newClock(), org: &origin{}}
	e.org.handler = fixed(e.clk, "hello", "Cache-Control", "max-age=60")
	opts.Now = e.clk.Now
	c, err := edge.New(e.org, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e.c = c
	return e
}

// get sends a request through the cache; hdr is name, value pairs.
func (e *env) do(method, url string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.c.ServeHTTP(w, r)
	return w
}

func (e *env) get(url string, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(http.MethodGet, url, hdr...)
}
