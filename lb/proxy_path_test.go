package lb_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// prefixedProxy is a proxy to one backend behind the path prefix /api that
// answers with the request URI it received.
func prefixedProxy(t *testing.T, e lb.EscapedSlashes) string {
	t.Helper()
	bs := lbtest.Start(t, 1)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.RequestURI) })
	u := *bs[0].URL
	u.Path = "/api"
	pool, err := lb.NewPool([]lb.Backend[*url.URL]{{Value: &u}}, lb.PoolOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return serve(t, &lb.Proxy{Pool: pool, Logger: quiet, EscapedSlashes: e}).URL
}

// TestProxyPathPrefixStaysInside: whatever the encoding of its dot
// segments, a request cannot climb out of a backend's path prefix.
func TestProxyPathPrefixStaysInside(t *testing.T) {
	front := prefixedProxy(t, lb.RejectEscapedSlashes)
	for target, want := range map[string]string{
		"/v1/x?q=1":            "/api/v1/x?q=1",
		"/a%20b/c%3Fd":         "/api/a%20b/c%3Fd",
		"/../admin":            "/api/admin",
		"/a/../../admin":       "/api/admin",
		"/%2e%2e/admin":        "/api/admin",
		"/a/./b/":              "/api/a/b/",
		"/a/%2E%2E/%2e/../x":   "/api/x",
		"/..;/admin":           "/api/admin", // Tomcat reads ..;x as ..
		"/a/..;jsessionid=1/b": "/api/b",
		"/%2e%2e%3b/admin":     "/api/admin",
		"/.%2e/admin":          "/api/admin",
		"/x;a=1/y":             "/api/x;a=1/y", // path parameters elsewhere stay
		"/file.json":           "/api/file.json",
	} {
		if got := rawGet(t, front, target); got != want {
			t.Errorf("GET %s: backend saw %q, want %q", target, got, want)
		}
	}
}

// TestProxyEscapedSlashes: by default a path holding an escaped slash or
// backslash is rejected with 400; UnescapeSlashes decodes and resolves it;
// KeepEscapedSlashes forwards it as it is.
func TestProxyEscapedSlashes(t *testing.T) {
	attacks := []string{"/..%2fadmin", "/%2e%2e%2fadmin", "/..%5cadmin", "/a%2F..%2F..%2Fadmin", `/..\admin`, "/a%2Fb"}
	reject := prefixedProxy(t, lb.RejectEscapedSlashes)
	for _, target := range attacks {
		if got := rawGet(t, reject, target); !strings.HasPrefix(got, "escaped slash") {
			t.Errorf("default: GET %s: backend saw %q, want a 400", target, got)
		}
	}
	unescape := prefixedProxy(t, lb.UnescapeSlashes)
	for target, want := range map[string]string{
		"/..%2fadmin":          "/api/admin",
		"/%2e%2e%2fadmin":      "/api/admin",
		"/..%5cadmin":          "/api/admin",
		"/a%2F..%2F..%2Fadmin": "/api/admin",
		`/..\admin`:            "/api/admin",
		"/a%2Fb?q=1":           "/api/a/b?q=1",
	} {
		if got := rawGet(t, unescape, target); got != want {
			t.Errorf("UnescapeSlashes: GET %s: backend saw %q, want %q", target, got, want)
		}
	}
	keep := prefixedProxy(t, lb.KeepEscapedSlashes)
	if got := rawGet(t, keep, "/a%2Fb?q=1"); got != "/api/a%2Fb?q=1" {
		t.Errorf("KeepEscapedSlashes: backend saw %q, want /api/a%%2Fb?q=1", got)
	}
}
