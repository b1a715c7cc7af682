package lb

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzProxyPathStaysUnderPrefix: whatever path a client sends, either the
// proxy rejects it or the path the backend receives stays under the
// backend's prefix as a backend that decodes it reads it: %2F, %5C and \ as
// separators (unless KeepEscapedSlashes, which promises nothing for such
// backends), every other escape decoded once, path parameters (;x) dropped,
// then dot segments resolved.
func FuzzProxyPathStaysUnderPrefix(f *testing.F) {
	for _, s := range []string{"/a/b", "/../x", "/%2e%2e/x", "/a%2Fb", "//x", "/a/./b/..", "", "/%2E./x",
		"/.%2e/%2e%2E/", "/..;/admin", "/..%2fadmin", "/%2e%2e%2fadmin", "/..%5cadmin", `/..\admin`,
		"/%2e%2e%3b/x", "/a%2F..%2F..%2Fx", "/..%252f", "/x;a=1/y", "/..;x;y/..;/z"} {
		for e := range 3 {
			f.Add(s, uint8(e))
		}
	}
	target := &url.URL{Scheme: "http", Host: "b", Path: "/api"}
	f.Fuzz(func(t *testing.T, raw string, mode uint8) {
		e := EscapedSlashes(mode % 3)
		u, err := url.ParseRequestURI("/" + strings.TrimPrefix(raw, "/"))
		if err != nil || u.Host != "" || u.Opaque != "" {
			return // net/http answers 400
		}
		c, ok := cleanURL(u, e)
		if !ok {
			if e != RejectEscapedSlashes {
				t.Fatalf("%q rejected under %d", raw, e)
			}
			return
		}
		p := retarget(c, target).EscapedPath()
		if seen := backendView(p, e != KeepEscapedSlashes); seen != "/api" && !strings.HasPrefix(seen, "/api/") {
			t.Fatalf("mode %d: %q → %q, read by the backend as %q: outside the prefix", e, raw, p, seen)
		}
		if back, err := url.Parse(p); err != nil || back.EscapedPath() != p {
			t.Fatalf("%q → %q does not round-trip: %v %v", raw, p, back, err)
		}
	})
}

// backendView is path p as a lenient backend reads it: every valid escape
// decoded once (%2F and %5C too if slashes), backslashes as slashes if
// slashes, path parameters dropped, dot segments resolved.
func backendView(p string, slashes bool) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]) {
			h := strings.ToLower(p[i+1 : i+3])
			if slashes || (h != "2f" && h != "5c") {
				b.WriteByte(unhex(p[i+1])<<4 | unhex(p[i+2]))
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	d := b.String()
	if slashes {
		d = strings.ReplaceAll(d, `\`, "/")
	}
	var out []string
	for i, seg := range strings.Split(d, "/") {
		if i == 0 {
			continue
		}
		seg, _, _ = strings.Cut(seg, ";")
		switch seg {
		case ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	return "/" + strings.Join(out, "/")
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// FuzzRetargetPrefix: whatever path a client sends, the backend's request
// stays under the backend's prefix, with no dot segment left to resolve.
func FuzzRetargetPrefix(f *testing.F) {
	for _, s := range []string{"/a/b", "/../x", "/%2e%2e/x", "/a%2Fb", "//x", "/a/./b/..", "", "/%2E./x", "/.%2e/%2e%2E/"} {
		f.Add(s)
	}
	target := &url.URL{Scheme: "http", Host: "b", Path: "/api"}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.ParseRequestURI("/" + strings.TrimPrefix(raw, "/"))
		if err != nil || u.Host != "" || u.Opaque != "" {
			return
		}
		out := retarget(u, target)
		p := out.EscapedPath()
		if !strings.HasPrefix(p, "/api/") {
			t.Fatalf("%q → %q: outside the prefix", raw, p)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") {
				t.Fatalf("%q → %q: dot segment left", raw, p)
			}
		}
		if back, err := url.Parse(p); err != nil || back.EscapedPath() != p {
			t.Fatalf("%q → %q does not round-trip: %v %v", raw, p, back, err)
		}
	})
}
