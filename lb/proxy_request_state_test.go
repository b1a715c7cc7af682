package lb_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestProxyForwardedHeaderValuesDoNotAlias: the X-Forwarded-* and X-Real-Ip
// values the proxy sets share one array per request; a transport appending
// to one of them (or keeping the request after it returns) must not change
// another, on any try.
func TestProxyForwardedHeaderValuesDoNotAlias(t *testing.T) {
	bs := lbtest.Start(t, 2)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	bs[1].Handle(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	keys := []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip"}
	var mu sync.Mutex
	var kept []http.Header // each try's headers, as the transport saw them
	var want []http.Header // and their copies
	p := &lb.Proxy{Pool: pool, Logger: quiet, Retry: lb.RetryOptions{Attempts: 2},
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			kept = append(kept, r.Header)
			want = append(want, r.Header.Clone())
			mu.Unlock()
			for _, k := range keys {
				vs := r.Header[k]
				_ = append(vs, "appended") // writes past the value if it had room
			}
			return http.DefaultTransport.RoundTrip(r)
		})}
	front := serve(t, p)
	if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != http.StatusServiceUnavailable {
		t.Fatalf("status %d", code)
	}
	if len(kept) != 2 {
		t.Fatalf("%d tries, want 2", len(kept))
	}
	for i := range kept {
		for _, k := range keys {
			if len(want[i][k]) != 1 {
				t.Errorf("try %d: %s %q: want one value", i, k, want[i][k])
			}
			if !slices.Equal(kept[i][k], want[i][k]) {
				t.Errorf("try %d: %s changed after the try: %q, was %q", i, k, kept[i][k], want[i][k])
			}
		}
	}
}

type handlerCtxKey struct{}

// TestProxyKeepsTheContextItWasGiven: the request's state rides in its
// context; a handler that wraps the proxy and replaces the request's
// context (a value, a deadline) still has that context seen by the
// transport and its deadline obeyed (504), and the try ends.
func TestProxyKeepsTheContextItWasGiven(t *testing.T) {
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Policy: lb.LeastRequest()})
	seen := make(chan any, 1)
	p := &lb.Proxy{Pool: pool, Logger: quiet, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen <- r.Context().Value(handlerCtxKey{})
		return http.DefaultTransport.RoundTrip(r)
	})}
	front := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), handlerCtxKey{}, "mine"), 50*time.Millisecond)
		defer cancel()
		p.ServeHTTP(w, r.WithContext(ctx))
	}))
	if code, _, _ := get(t, front.Client(), mustReq(t, "GET", front.URL)); code != http.StatusGatewayTimeout {
		t.Errorf("status %d, want 504 at the handler's deadline", code)
	}
	if v := <-seen; v != "mine" {
		t.Errorf("the transport saw context value %v, want the handler's", v)
	}
	waitIdle(t, pool)
}
