package edge

import (
	"net/textproto"
	"strings"
)

// Cache-Control directive flags (RFC 9111 §5.2).
const (
	ccNoStore uint32 = 1 << iota
	ccNoCache        // unqualified no-cache
	ccPrivate        // unqualified private
	ccPublic
	ccMustRevalidate
	ccProxyRevalidate
	ccMustUnderstand
	ccImmutable
	ccNoTransform
	ccOnlyIfCached
	ccMaxStaleAny // max-stale without a value: any staleness
)

// Delta-seconds sentinels.
const (
	absent    int64 = -1 // directive not present
	malformed int64 = -2 // present, but malformed or duplicated with conflicting values
)

// maxDelta is what a delta-seconds larger than 2^31 becomes (RFC 9111 §1.2.2).
const maxDelta = 2147483648

// directives is a parsed Cache-Control (or targeted) field. A stored
// response's directives are parsed once, at store time.
type directives struct {
	flags                     uint32
	maxAge, sMaxAge           int64
	swr, sie                  int64 // stale-while-revalidate, stale-if-error (RFC 5861)
	maxStale, minFresh        int64 // request only
	noCacheFields, privFields []string
}

func (d *directives) has(f uint32) bool { return d.flags&f != 0 }

// parseCacheControl parses every field line of a Cache-Control value with
// RFC 9110 list syntax: elements separated by commas, optional whitespace,
// empty elements ignored, arguments as tokens or quoted strings (commas
// inside quotes do not split). Unknown directives are ignored (§5.2.3).
// A delta-seconds directive given twice with different values, or with a
// malformed value, is marked invalid (the caller treats the response as
// stale, §4.2.1); a request's invalid max-age is treated as 0.
func parseCacheControl(lines []string) directives {
	d := directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent, maxStale: absent, minFresh: absent}
	for _, line := range lines {
		for len(line) > 0 {
			var name, val string
			var quoted, ok bool
			name, val, quoted, line, ok = nextElement(line)
			if !ok || name == "" {
				continue
			}
			d.apply(name, val, quoted)
		}
	}
	return d
}

func (d *directives) apply(name, val string, quoted bool) {
	lower := func(s string) bool { return strings.EqualFold(name, s) }
	switch {
	case lower("max-age"):
		setDelta(&d.maxAge, val)
	case lower("s-maxage"):
		setDelta(&d.sMaxAge, val)
	case lower("stale-while-revalidate"):
		setDelta(&d.swr, val)
	case lower("stale-if-error"):
		setDelta(&d.sie, val)
	case lower("min-fresh"):
		setDelta(&d.minFresh, val)
	case lower("max-stale"):
		if val == "" && !quoted {
			d.flags |= ccMaxStaleAny
		} else {
			setDelta(&d.maxStale, val)
		}
	case lower("no-store"):
		d.flags |= ccNoStore
	case lower("no-cache"):
		if val == "" && !quoted {
			d.flags |= ccNoCache
		} else {
			d.noCacheFields = appendFieldNames(d.noCacheFields, val)
		}
	case lower("private"):
		if val == "" && !quoted {
			d.flags |= ccPrivate
		} else {
			d.privFields = appendFieldNames(d.privFields, val)
		}
	case lower("public"):
		d.flags |= ccPublic
	case lower("must-revalidate"):
		d.flags |= ccMustRevalidate
	case lower("proxy-revalidate"):
		d.flags |= ccProxyRevalidate
	case lower("must-understand"):
		d.flags |= ccMustUnderstand
	case lower("immutable"):
		d.flags |= ccImmutable
	case lower("no-transform"):
		d.flags |= ccNoTransform
	case lower("only-if-cached"):
		d.flags |= ccOnlyIfCached
	}
}

// setDelta records a delta-seconds argument: the first valid value, or
// invalid if malformed or if a duplicate disagrees.
func setDelta(dst *int64, val string) {
	v, ok := parseDelta(val)
	switch {
	case !ok:
		*dst = malformed
	case *dst == absent:
		*dst = v
	case *dst != v:
		*dst = malformed
	}
}

// parseDelta parses delta-seconds = 1*DIGIT, capping at 2^31 (§1.2.2).
func parseDelta(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDelta), true
}

// appendFieldNames adds the canonical field names of a quoted list
// ("Set-Cookie, X-Foo") to dst.
func appendFieldNames(dst []string, list string) []string {
	for f := range strings.SplitSeq(list, ",") {
		f = strings.TrimSpace(f)
		if validToken(f) {
			dst = append(dst, textproto.CanonicalMIMEHeaderKey(f))
		}
	}
	if dst == nil {
		dst = []string{} // qualified form with no valid names: present, names nothing
	}
	return dst
}

// nextElement cuts the first list element off s: name, its argument
// (unquoted), whether the argument was quoted, the rest of s, and ok=false
// for a malformed element (skipped up to the next comma outside quotes).
func nextElement(s string) (name, val string, quoted bool, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
		i++
	}
	s = s[i:]
	j := 0
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	name = s[:j]
	s = s[j:]
	// cache-directive = token [ "=" ( token / quoted-string ) ]: no
	// whitespace around "=" (RFC 9111 §5.2).
	if len(s) > 0 && s[0] == '=' {
		s = s[1:]
		if len(s) > 0 && s[0] == '"' {
			v, n, good := readQuoted(s)
			if !good {
				// An unterminated quoted-string does not swallow the rest
				// of the field: resume after the next comma.
				if i := strings.IndexByte(s, ','); i >= 0 {
					return "", "", false, s[i:], false
				}
				return "", "", false, "", false
			}
			val, quoted, s = v, true, s[n:]
		} else {
			k := 0
			for k < len(s) && isTokenChar(s[k]) {
				k++
			}
			val, s = s[:k], s[k:]
		}
	}
	s = strings.TrimLeft(s, " \t")
	if len(s) > 0 && s[0] != ',' {
		return "", "", false, skipElement(s), false
	}
	return name, val, quoted, s, true
}

// skipElement drops s up to the next comma outside a quoted string.
func skipElement(s string) string {
	in := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && c == ',':
			return s[i:]
		}
	}
	return ""
}

// readQuoted reads a quoted-string at the start of s: its unescaped content
// and the bytes consumed. It allocates only when the string has escapes.
func readQuoted(s string) (string, int, bool) {
	esc := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			esc = true
			i++
		case '"':
			if !esc {
				return s[1:i], i + 1, true
			}
			var b strings.Builder
			for k := 1; k < i; k++ {
				if s[k] == '\\' && k+1 < i {
					k++
				}
				b.WriteByte(s[k])
			}
			return b.String(), i + 1, true
		}
	}
	return "", 0, false
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}
