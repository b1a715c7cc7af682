package session

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func TestNewTokenUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok, key := newToken()
		if seen[tok] {
			t.Fatal("duplicate token")
		}
		seen[tok] = true
		if k, ok := parseToken(tok); !ok || k != key {
			t.Fatalf("parseToken(%q) = %q, %v; want %q", tok, k, ok, key)
		}
		if strings.Contains(key, tok) || len(key) != 64 {
			t.Fatalf("key %q", key)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	tok, _ := newToken()
	for _, s := range []string{tok, tok[:42], tok + "=", strings.Repeat("A", 43), strings.Repeat("_", 43),
		strings.Repeat("A", 42) + "B", "", "\x00", strings.Repeat("é", 22)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, ok := parseToken(s)
		if !ok {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != tokenBytes {
			t.Fatalf("accepted %q: %v, %d bytes", s, err, len(b))
		}
		if base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("accepted non-canonical %q", s)
		}
		if key != hashKey(b) {
			t.Fatal("key is not the hash of the token")
		}
	})
}

func TestCookieValue(t *testing.T) {
	tok, _ := newToken()
	cases := []struct {
		headers []string
		want    string
		ok      bool
	}{
		{[]string{"session=" + tok}, tok, true},
		{[]string{"a=1; session=" + tok + "; b=2"}, tok, true},
		{[]string{"a=1", "b=2;  session=" + tok + " "}, tok, true},
		{[]string{"session=first; session=second"}, "first", true},
		{[]string{"xsession=1; sessionx=2"}, "", false},
		{[]string{"session"}, "", false},
		{[]string{""}, "", false},
		{nil, "", false},
	}
	for _, c := range cases {
		h := http.Header{"Cookie": c.headers}
		if v, ok := cookieValue(h, "session"); v != c.want || ok != c.ok {
			t.Errorf("cookieValue(%q) = %q, %v; want %q, %v", c.headers, v, ok, c.want, c.ok)
		}
		if c.ok { // agrees with net/http for well-formed headers
			req := &http.Request{Header: h}
			if hc, err := req.Cookie("session"); err != nil || hc.Value != c.want {
				t.Errorf("net/http reads %v, %v", hc, err)
			}
		}
	}
}
