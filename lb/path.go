package lb

import (
	"fmt"
	"net/url"
	"strings"
)

// EscapedSlashes says what a [Proxy] does with a request path holding an
// escaped slash or backslash (%2F, %5C) or a backslash, after Envoy's
// path_with_escaped_slashes_action. A backend that decodes them before it
// normalises the path (nginx, Tomcat, IIS and many frameworks do) reads
// /api/..%2Fadmin as /admin, outside the backend's path prefix, and past any
// rule the proxy applied to the path.
type EscapedSlashes int

const (
	// RejectEscapedSlashes answers 400 Bad Request; the default.
	RejectEscapedSlashes EscapedSlashes = iota
	// UnescapeSlashes turns %2F, %5C and \ into / before the path's dot
	// segments are resolved, and forwards the result (Envoy's
	// UNESCAPE_AND_FORWARD): /a%2F..%2Fb becomes /b.
	UnescapeSlashes
	// KeepEscapedSlashes forwards them unchanged (Envoy's KEEP_UNCHANGED),
	// for backends that never decode them before routing (resource names
	// holding a slash, as in GitLab's group%2Fproject). With a backend
	// path prefix, a backend that does decode them can be made to serve
	// paths outside it.
	KeepEscapedSlashes
)

func (e EscapedSlashes) validate() error {
	if e < RejectEscapedSlashes || e > KeepEscapedSlashes {
		return fmt.Errorf("%w: EscapedSlashes %d: unknown", ErrInvalidOptions, int(e))
	}
	return nil
}

// cleanURL is u with its path cleaned by cleanPath (u itself when that
// changes nothing), or ok false if the request is to be rejected.
func cleanURL(u *url.URL, e EscapedSlashes) (*url.URL, bool) {
	escaped := u.EscapedPath()
	clean, ok := cleanPath(escaped, e)
	if !ok || clean == escaped {
		return u, ok
	}
	c := *u
	c.Path, _ = url.PathUnescape(clean) // clean comes from a valid escaped path
	c.RawPath = clean
	return &c, true
}

// cleanPath is the escaped request path the proxy forwards, or ok false
// if the request is to be rejected: escaped slashes are handled as e says,
// then the dot segments are resolved, counting their percent-encoded forms
// and their path parameters (..;x, which Tomcat reads as ..).
func cleanPath(escaped string, e EscapedSlashes) (string, bool) {
	if !strings.ContainsAny(escaped, `%\.`) {
		return escaped, true // nothing to resolve: the common case
	}
	if e != KeepEscapedSlashes && hasEscapedSlash(escaped) {
		if e == RejectEscapedSlashes {
			return "", false
		}
		escaped = unescapeSlashes(escaped)
	}
	return resolveDots(escaped), true
}

func hasEscapedSlash(p string) bool {
	if strings.IndexByte(p, '\\') >= 0 {
		return true
	}
	for i := strings.IndexByte(p, '%'); i >= 0 && i+2 < len(p); {
		if h := p[i+1 : i+3]; strings.EqualFold(h, "2f") || strings.EqualFold(h, "5c") {
			return true
		}
		j := strings.IndexByte(p[i+1:], '%')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

func unescapeSlashes(p string) string {
	r := strings.NewReplacer("%2F", "/", "%2f", "/", "%5C", "/", "%5c", "/", `\`, "/")
	return r.Replace(p)
}

// resolveDots resolves the "." and ".." segments of an escaped path (RFC
// 3986, section 5.2.4) without ever climbing above the root. A segment is
// a dot segment if, percent-decoded and cut at its first ';', it is "." or
// "..". Other segments are kept as they are.
func resolveDots(p string) string {
	if !strings.ContainsAny(p, ".%") {
		return p // no dot segment, plain or encoded: the common case
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, seg := range segs {
		if i == 0 && seg == "" {
			continue // the leading slash
		}
		trailing = false
		switch dotSegment(seg) {
		case ".":
			trailing = true
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			trailing = true
		default:
			out = append(out, seg)
		}
	}
	r := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		r += "/"
	}
	return r
}

// dotSegment returns "." or ".." if seg reads as one to a backend that
// decodes it and drops its path parameters, and "" otherwise.
func dotSegment(seg string) string {
	if len(seg) == 0 || (seg[0] != '.' && seg[0] != '%') {
		return ""
	}
	if d, err := url.PathUnescape(seg); err == nil {
		seg = d
	}
	seg, _, _ = strings.Cut(seg, ";")
	if seg == "." || seg == ".." {
		return seg
	}
	return ""
}
