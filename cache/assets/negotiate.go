package assets

// This file parses the two request fields the fast path reads itself,
// Accept-Encoding and If-None-Match, without allocating.

// qUnset marks a coding the Accept-Encoding field does not name.
const qUnset = -1

// pickVariant returns the index in vs (ordered by server preference) of the
// precompressed variant to send for the Accept-Encoding field values, or -1
// for the identity bytes (RFC 9110 §12.5.3). The highest q-value wins; on a
// tie the server's order (br, gzip, identity) decides; q=0 excludes a
// coding, and "*" covers codings not named. Without the field the identity
// bytes are sent: the RFC allows any coding then, but a client that sends
// no Accept-Encoding is usually one that cannot decode. When the field
// excludes identity too and no variant is acceptable, the identity bytes
// are still sent (the RFC's alternative, 406, helps nobody fetching a
// script).
func pickVariant(fields []string, vs []variant) int {
	if len(fields) == 0 {
		return -1
	}
	qBr, qGzip, qIdentity, qStar := qUnset, qUnset, qUnset, qUnset
	for _, f := range fields {
		for len(f) > 0 {
			var elem string
			elem, f = cutComma(f)
			coding, q, ok := parseCoding(elem)
			if !ok {
				continue
			}
			switch {
			case equalFold(coding, "br"):
				qBr = max(qBr, q)
			case equalFold(coding, "gzip"), equalFold(coding, "x-gzip"):
				qGzip = max(qGzip, q)
			case equalFold(coding, "identity"):
				qIdentity = max(qIdentity, q)
			case coding == "*":
				qStar = max(qStar, q)
			}
		}
	}
	resolve := func(q int) int {
		if q != qUnset {
			return q
		}
		if qStar != qUnset {
			return qStar
		}
		return 0
	}
	best, bestQ := -1, resolve(qIdentity)
	if qIdentity == qUnset && qStar == qUnset {
		bestQ = 1 // identity is acceptable unless excluded (§12.5.3)
	}
	// Variants come first in the server's order, so a tie keeps the earlier.
	for i := len(vs) - 1; i >= 0; i-- {
		q := qBr
		if vs[i].coding == "gzip" {
			q = qGzip
		}
		if q = resolve(q); q > 0 && q >= bestQ {
			best, bestQ = i, q
		}
	}
	return best
}

// cutComma splits off the first comma-separated element, trimmed of
// optional whitespace.
func cutComma(s string) (elem, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ',' {
			return trimOWS(s[:i]), s[i+1:]
		}
	}
	return trimOWS(s), ""
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseCoding parses `coding [ OWS ";" OWS "q=" qvalue ]` into the coding
// and q in thousandths (1000 when absent). Other parameters are ignored;
// a malformed q-value makes the element invalid (ok false), so a broken
// "gzip;q=x" neither selects nor excludes gzip.
func parseCoding(elem string) (coding string, q int, ok bool) {
	coding, params := elem, ""
	for i := 0; i < len(elem); i++ {
		if elem[i] == ';' {
			coding, params = trimOWS(elem[:i]), elem[i+1:]
			break
		}
	}
	if coding == "" {
		return "", 0, false
	}
	q = 1000
	for len(params) > 0 {
		var p string
		p, params = cutSemicolon(params)
		if len(p) >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=' {
			if q, ok = parseQ(trimOWS(p[2:])); !ok {
				return "", 0, false
			}
		}
	}
	return coding, q, true
}

func cutSemicolon(s string) (elem, rest string) {
	for i := 0; i < len(s); i++ {
		if s[i] == ';' {
			return trimOWS(s[:i]), s[i+1:]
		}
	}
	return trimOWS(s), ""
}

// parseQ parses a qvalue (RFC 9110 §12.4.2): "0" ["." 0*3DIGIT] or "1"
// ["." 0*3"0"], in thousandths.
func parseQ(s string) (int, bool) {
	if len(s) == 0 || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for i := 2; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' || (q == 1000 && c != '0') {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return q, true
}

// equalFold is ASCII case-insensitive equality (coding names are tokens).
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// noneMatch reports whether an If-None-Match field (its values) matches
// etag by the weak comparison RFC 9110 §13.1.2 requires: "*" matches any
// current representation, and W/"x" matches "x". A malformed list matches
// nothing from the malformed element on, so the full response is sent
// (the safe answer).
func noneMatch(fields []string, etag string) bool {
	for _, f := range fields {
		for {
			f = trimOWSComma(f)
			if f == "" {
				break
			}
			if f[0] == '*' {
				return true
			}
			tag, rest, ok := scanETag(f)
			if !ok {
				break
			}
			if tag == etag {
				return true
			}
			f = rest
		}
	}
	return false
}

func trimOWSComma(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t' || s[0] == ',') {
		s = s[1:]
	}
	return s
}

// scanETag reads one entity-tag from the start of s and returns its opaque
// part with the quotes (`"x"` for both W/"x" and "x"), and the rest.
func scanETag(s string) (opaque, rest string, ok bool) {
	if len(s) >= 2 && s[0] == 'W' && s[1] == '/' {
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c == 0x21 || 0x23 <= c && c <= 0x7E || c >= 0x80: // etagc
		default:
			return "", "", false
		}
	}
	return "", "", false
}
