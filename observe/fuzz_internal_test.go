package observe

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequestID: whatever a client sends as X-Request-ID, the ID used is
// bounded and made of safe characters, and a valid one is kept.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a\nb", strings.Repeat("x", 200), "0b4c7a3e-8f1d", "ü", "a b", "=+/:._-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Request-Id"] = []string{in}
		id := requestID(r)
		if !validRequestID(id) {
			t.Fatalf("requestID(%q) = %q: not a valid ID", in, id)
		}
		if validRequestID(in) && id != in {
			t.Fatalf("valid %q replaced by %q", in, id)
		}
	})
}

// FuzzHeaders: OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES
// parse or fail with ErrInvalidOptions, never panic, and an error never
// quotes a value.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{"", "a=b", "a=b,c=d", "novalue", "k=%zz", "=v", "a=b%20c", ",,,", "k:x=v"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, err := headers("H", in)
		if err != nil && !strings.HasPrefix(err.Error(), ErrInvalidOptions.Error()+": H") {
			t.Fatalf("headers(%q): error %q", in, err)
		}
	})
}

// FuzzEndpoint: an endpoint is accepted only as an http(s) URL with a host.
func FuzzEndpoint(f *testing.F) {
	for _, s := range []string{"http://c:4318", "https://c", "c:4318", "http://", "ftp://x", "http://u:p@h", "http://h:0", "http://[::1]:4318"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := endpoint("E", in)
		if err == nil && (u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
			t.Fatalf("endpoint(%q) accepted %v", in, u)
		}
	})
}
