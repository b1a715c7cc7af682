package lb

import "testing"

// TestRedact: query strings and userinfo go, the rest of the message stays.
func TestRedactedErrorsKeepTheirCause(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`malformed: "GET /a?token=x&y=2 HTTP/1.1"`, `malformed: "GET /a?[redacted] HTTP/1.1"`},
		{`dial http://user:pass@10.0.0.1:80/x?k=v: refused`, `dial http://[redacted]@10.0.0.1:80/x?[redacted] refused`},
		{`Get "http://h/p?q": EOF`, `Get "http://h/p?[redacted]": EOF`},
		{`no query, mail a@b`, `no query, mail a@b`},
	} {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
