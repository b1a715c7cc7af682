package lb_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

func TestStickyCookieAttacks(t *testing.T) {
	bs := lbtest.Start(t, 3)
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet,
		Sticky: &lb.StickyOptions{Key: []byte("0123456789abcdef0123")}})
	send := func(v string) (string, string) {
		req := mustReq(t, "GET", front.URL)
		if v != "" {
			req.AddCookie(&http.Cookie{Name: "lb_sticky", Value: v})
		}
		_, body, h := get(t, front.Client(), req)
		return body, h.Get("Set-Cookie")
	}
	tokens := map[string]string{} // backend → token
	for len(tokens) < 3 {
		body, set := send("")
		tokens[body] = strings.TrimPrefix(strings.SplitN(set, ";", 2)[0], "lb_sticky=")
	}
	seen := map[string]bool{}
	for b, tok := range tokens {
		if seen[tok] || strings.Contains(tok, b) {
			t.Fatalf("token %q of %s is not opaque and distinct", tok, b)
		}
		seen[tok] = true
		for _, bad := range []string{tok[:len(tok)-1], tok + "A", strings.ToUpper(tok), tok[:21] + string(tok[21]^1), " " + tok} {
			if _, set := send(bad); set == "" {
				t.Errorf("tampered cookie %q (of %s) accepted", bad, b)
			}
		}
	}
	// Replay onto a removed backend: balanced elsewhere with a new cookie.
	if err := pool.Update(lbtest.Backends(bs[1:])); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if body, set := send(tokens["b0"]); body == "b0" || set == "" {
			t.Fatalf("cookie of removed b0: served by %s, Set-Cookie %q", body, set)
		}
	}
	// Another key (another deployment) does not honour these cookies.
	other := serve(t, &lb.Proxy{Pool: pool, Logger: quiet,
		Sticky: &lb.StickyOptions{Key: []byte("another-key-of-20-bytes")}})
	req := mustReq(t, "GET", other.URL)
	req.AddCookie(&http.Cookie{Name: "lb_sticky", Value: tokens["b1"]})
	if _, _, h := get(t, other.Client(), req); h.Get("Set-Cookie") == "" {
		t.Error("cookie signed with another key accepted")
	}
}
