package edge

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// parseDate parses an HTTP-date in any of the three formats RFC 9110 §5.6.7
// requires recipients to accept. A field with several lines uses the first.
func parseDate(lines []string) (time.Time, bool) {
	if len(lines) == 0 {
		return time.Time{}, false
	}
	t, err := http.ParseTime(strings.TrimSpace(lines[0]))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// parseExpires returns the Expires time and whether the field is present.
// An invalid date (notably "0") means a time in the past (RFC 9111 §5.3);
// several lines that disagree make the response stale (§4.2.1).
func parseExpires(lines []string) (t time.Time, present bool) {
	if len(lines) == 0 {
		return time.Time{}, false
	}
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != strings.TrimSpace(lines[0]) {
			return time.Unix(0, 0), true
		}
	}
	t, ok := parseDate(lines)
	if !ok {
		return time.Unix(0, 0), true
	}
	return t, true
}

// parseAge returns the Age in seconds: the first member of the field; an
// invalid value is ignored (RFC 9111 §5.1), as if absent.
func parseAge(lines []string) (int64, bool) {
	if len(lines) == 0 {
		return 0, false
	}
	v := lines[0]
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return parseDelta(strings.TrimSpace(v))
}

// varySpec is a parsed Vary: the lowercased, deduplicated, sorted field
// names, or star for "Vary: *" (which never matches, RFC 9111 §4.1).
type varySpec struct {
	star   bool
	fields []string // canonical names, sorted
}

func parseVary(lines []string) varySpec {
	var v varySpec
	for _, l := range lines {
		for f := range strings.SplitSeq(l, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "*":
				v.star = true
			case validToken(f):
				c := textproto.CanonicalMIMEHeaderKey(f)
				if !slices.Contains(v.fields, c) {
					v.fields = append(v.fields, c)
				}
			}
		}
	}
	slices.Sort(v.fields)
	return v
}

// caseInsensitive lists request fields whose values compare without case.
var caseInsensitive = map[string]bool{
	"Accept-Encoding": true, "Accept-Language": true, "Accept-Charset": true, "Accept": true,
}

// secondaryKey appends the normalised values of the request fields a
// response varies on (RFC 9111 §4.1): several field lines are combined,
// list members are trimmed of whitespace and, for case-insensitive fields,
// lowercased. An absent field and an empty one both normalise to "" after
// the field's marker, which keeps them distinct from any value.
func secondaryKey(dst []byte, v *varySpec, h http.Header) []byte {
	for _, f := range v.fields {
		dst = append(dst, 0)
		lines, ok := h[f]
		if !ok {
			dst = append(dst, 1) // absent
			continue
		}
		first := true
		for _, l := range lines {
			for m := range strings.SplitSeq(l, ",") {
				m = strings.TrimSpace(m)
				if m == "" {
					continue
				}
				if !first {
					dst = append(dst, ',')
				}
				first = false
				if caseInsensitive[f] {
					for i := 0; i < len(m); i++ {
						c := m[i]
						if 'A' <= c && c <= 'Z' {
							c += 'a' - 'A'
						}
						if c == ' ' || c == '\t' {
							continue
						}
						dst = append(dst, c)
					}
				} else {
					dst = append(dst, m...)
				}
			}
		}
	}
	return dst
}

// etagMatchWeak reports whether any entity-tag in an If-None-Match list
// matches etag by weak comparison (RFC 9110 §8.8.3.2, §13.1.2); "*"
// matches any current representation.
func etagMatchWeak(inm []string, etag string) bool {
	if etag == "" {
		return false
	}
	want := opaque(etag)
	if want == "" {
		return false
	}
	for _, l := range inm {
		for len(l) > 0 {
			l = strings.TrimLeft(l, " \t,")
			if l == "" {
				break
			}
			if l[0] == '*' {
				return true
			}
			t, rest := cutETag(l)
			if t == "" {
				// Malformed: skip to the next comma.
				i := strings.IndexByte(l, ',')
				if i < 0 {
					break
				}
				l = l[i:]
				continue
			}
			if opaque(t) == want {
				return true
			}
			l = rest
		}
	}
	return false
}

// cutETag reads one entity-tag at the start of s.
func cutETag(s string) (tag, rest string) {
	i := 0
	if strings.HasPrefix(s, "W/") {
		i = 2
	}
	if i >= len(s) || s[i] != '"' {
		return "", s
	}
	j := strings.IndexByte(s[i+1:], '"')
	if j < 0 {
		return "", ""
	}
	end := i + 1 + j + 1
	return s[:end], s[end:]
}

// opaque returns the quoted opaque-tag of an entity-tag without its weak
// prefix, or "" if it is not a valid entity-tag.
func opaque(t string) string {
	t = strings.TrimSpace(t)
	t = strings.TrimPrefix(t, "W/")
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' || strings.IndexByte(t[1:len(t)-1], '"') >= 0 {
		return ""
	}
	return t
}

// hopByHop are the connection-specific fields never stored or forwarded
// (RFC 9110 §7.6.1), beside those Connection names.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Te", "Transfer-Encoding", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization", "Trailer"}

// stripHopByHop removes hop-by-hop fields and those named by Connection.
func stripHopByHop(h http.Header) {
	for _, l := range h["Connection"] {
		for f := range strings.SplitSeq(l, ",") {
			if f = strings.TrimSpace(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, f := range hopByHop {
		delete(h, f)
	}
}
