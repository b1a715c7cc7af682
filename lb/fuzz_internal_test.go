package lb

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "1.2.3.4, 10.0.0.1", " , ,", "[::1]:80, fe80::1%eth0", "::ffff:1.2.3.4", "x,1.1.1.1,y", strings.Repeat("1.1.1.1,", 50)} {
		f.Add(s, "10.0.0.7:1234")
		f.Add(s, "203.0.113.1:80")
	}
	trusted, _ := ParseTrusted("10.0.0.0/8", "::1")
	f.Fuzz(func(t *testing.T, xff, remote string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		chain := forwardedChain([]string{xff})
		for _, a := range chain {
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("chain holds %v", a)
			}
		}
		peer, ok := peerAddr(r)
		out := forwardedFor(r, trusted)
		if !ok {
			if out != "" {
				t.Fatalf("no peer but XFF %q", out)
			}
			return
		}
		back := forwardedChain([]string{out})
		if len(back) == 0 || back[len(back)-1] != peer {
			t.Fatalf("XFF %q does not end with the peer %v", out, peer)
		}
		if !trusted.Contains(peer) && len(back) != 1 {
			t.Fatalf("untrusted peer %v forwarded %q", peer, out)
		}
		if trusted.Contains(peer) && !slices.Equal(back[:len(back)-1], chain) {
			t.Fatalf("trusted chain %v became %v", chain, back)
		}
		if c := ClientIP(r, trusted); c != peer && !slices.Contains(chain, c) {
			t.Fatalf("ClientIP %v is neither the peer nor in the chain", c)
		}
	})
}

func FuzzStickyCookie(f *testing.F) {
	s, err := newSticky(StickyOptions{Key: []byte("0123456789abcdef")})
	if err != nil {
		f.Fatal(err)
	}
	p, err := NewPool([]Backend[*url.URL]{{Name: "a", Value: &url.URL{Host: "a"}}, {Name: "b", Value: &url.URL{Host: "b"}}}, PoolOptions{})
	if err != nil {
		f.Fatal(err)
	}
	defer p.Close()
	snap := p.load()
	valid := s.table(snap).token
	for _, v := range append(slices.Clone(valid), "", "=", "lb_sticky", strings.Repeat("A", 22), "a\"b", valid[0]+";x") {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Cookie", "other=1; lb_sticky="+value)
		i := s.lookup(r, snap)
		parsed := ""
		if c, err := r.Cookie("lb_sticky"); err == nil {
			parsed = c.Value
		}
		switch {
		case i == -1:
			if slices.Contains(valid, parsed) {
				t.Fatalf("valid token %q rejected", parsed)
			}
		case valid[i] != parsed:
			t.Fatalf("cookie %q (parsed %q) picked backend %d", value, parsed, i)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "::1", "1.2.3.4/33", "fe80::1%eth0", "http://a:1/x?y", "http://", "https://[::1]:443/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tr, err := ParseTrusted(s); err == nil {
			for _, p := range tr {
				if !p.IsValid() || p != p.Masked() {
					t.Fatalf("ParseTrusted(%q) gave %v", s, p)
				}
			}
		}
		if bs, err := ParseBackends(s); err == nil {
			if u := bs[0].Value; u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
				t.Fatalf("ParseBackends(%q) gave %v", s, u)
			}
		}
	})
}
