package edge

import "strings"

// Targeted cache-control fields (RFC 9213 §2.1) are Structured Fields
// Dictionaries (RFC 8941 §3.2). parseTargeted parses one strictly: a
// parsing error, or an empty field, makes the cache ignore the whole field
// (ok=false). A member whose value is not of the directive's type (a
// String max-age, say) is ignored, as an unknown directive is.
func parseTargeted(lines []string) (directives, bool) {
	d := directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent, maxStale: absent, minFresh: absent}
	s := strings.Join(lines, ", ")
	p := sfParser{s: strings.Trim(s, " ")}
	if p.s == "" {
		return d, false
	}
	type member struct {
		key string
		v   sfItem
	}
	var ms []member
	for {
		key, ok := p.key()
		if !ok {
			return d, false
		}
		v := sfItem{kind: sfBool, b: true}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				if !p.innerList() {
					return d, false
				}
				v = sfItem{kind: sfInner}
			} else if v, ok = p.bareItem(); !ok {
				return d, false
			}
		}
		if !p.params() {
			return d, false
		}
		// A dictionary's later duplicate overwrites the earlier (RFC 8941 §4.2.2).
		replaced := false
		for i := range ms {
			if ms[i].key == key {
				ms[i].v, replaced = v, true
			}
		}
		if !replaced {
			ms = append(ms, member{key, v})
		}
		p.ows()
		if p.done() {
			break
		}
		if p.peek() != ',' {
			return d, false
		}
		p.i++
		p.ows()
		if p.done() {
			return d, false // trailing comma
		}
	}
	for _, m := range ms {
		v := m.v
		delta := func(dst *int64) {
			if v.kind == sfInt && v.n >= 0 {
				*dst = min(v.n, maxDelta)
			}
		}
		flag := func(f uint32) {
			if v.kind == sfBool && v.b {
				d.flags |= f
			}
		}
		switch m.key {
		case "max-age":
			delta(&d.maxAge)
		case "s-maxage":
			delta(&d.sMaxAge)
		case "stale-while-revalidate":
			delta(&d.swr)
		case "stale-if-error":
			delta(&d.sie)
		case "no-store":
			flag(ccNoStore)
		case "public":
			flag(ccPublic)
		case "must-revalidate":
			flag(ccMustRevalidate)
		case "proxy-revalidate":
			flag(ccProxyRevalidate)
		case "must-understand":
			flag(ccMustUnderstand)
		case "immutable":
			flag(ccImmutable)
		case "no-cache":
			if v.kind == sfString {
				d.noCacheFields = appendFieldNames(d.noCacheFields, v.s)
			}
			flag(ccNoCache)
		case "private":
			if v.kind == sfString {
				d.privFields = appendFieldNames(d.privFields, v.s)
			}
			flag(ccPrivate)
		}
	}
	return d, true
}

type sfKind int

const (
	sfBool sfKind = iota
	sfInt
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfInner
)

type sfItem struct {
	kind sfKind
	n    int64
	s    string
	b    bool
}

type sfParser struct {
	s string
	i int
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) ows() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isLcalpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool   { return isLcalpha(c) || 'A' <= c && c <= 'Z' }

// key = ( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )
func (p *sfParser) key() (string, bool) {
	c := p.peek()
	if !isLcalpha(c) && c != '*' {
		return "", false
	}
	start := p.i
	for p.i++; !p.done(); p.i++ {
		c := p.s[p.i]
		if !isLcalpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
	}
	return p.s[start:p.i], true
}

func (p *sfParser) bareItem() (sfItem, bool) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return p.str()
	case c == '*' || isAlpha(c):
		start := p.i
		for p.i++; !p.done(); p.i++ {
			c := p.s[p.i]
			if !isTokenChar(c) && c != ':' && c != '/' {
				break
			}
		}
		return sfItem{kind: sfToken, s: p.s[start:p.i]}, true
	case c == ':':
		end := strings.IndexByte(p.s[p.i+1:], ':')
		if end < 0 {
			return sfItem{}, false
		}
		for _, b := range []byte(p.s[p.i+1 : p.i+1+end]) {
			if !isAlpha(b) && !isDigit(b) && b != '+' && b != '/' && b != '=' {
				return sfItem{}, false
			}
		}
		p.i += end + 2
		return sfItem{kind: sfBytes}, true
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			b := p.s[p.i+1] == '1'
			p.i += 2
			return sfItem{kind: sfBool, b: b}, true
		}
	}
	return sfItem{}, false
}

func (p *sfParser) number() (sfItem, bool) {
	neg := false
	if p.peek() == '-' {
		neg = true
		p.i++
	}
	var n int64
	digits, frac, dot := 0, 0, false
	for !p.done() {
		c := p.s[p.i]
		switch {
		case isDigit(c):
			if dot {
				frac++
			} else {
				digits++
				n = n*10 + int64(c-'0')
			}
		case c == '.' && !dot && digits > 0 && digits <= 12:
			dot = true
		default:
			goto end
		}
		p.i++
	}
end:
	if digits == 0 || !dot && digits > 15 || dot && (frac == 0 || frac > 3) {
		return sfItem{}, false
	}
	if neg {
		n = -n
	}
	if dot {
		return sfItem{kind: sfDecimal}, true
	}
	return sfItem{kind: sfInt, n: n}, true
}

func (p *sfParser) str() (sfItem, bool) {
	var b strings.Builder
	for p.i++; !p.done(); p.i++ {
		c := p.s[p.i]
		switch {
		case c == '\\':
			p.i++
			if p.done() || p.s[p.i] != '"' && p.s[p.i] != '\\' {
				return sfItem{}, false
			}
			b.WriteByte(p.s[p.i])
		case c == '"':
			p.i++
			return sfItem{kind: sfString, s: b.String()}, true
		case c < 0x20 || c > 0x7e:
			return sfItem{}, false
		default:
			b.WriteByte(c)
		}
	}
	return sfItem{}, false
}

func (p *sfParser) innerList() bool {
	p.i++ // (
	for {
		for p.peek() == ' ' {
			p.i++
		}
		if p.peek() == ')' {
			p.i++
			return p.params()
		}
		if _, ok := p.bareItem(); !ok || !p.params() {
			return false
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
}

func (p *sfParser) params() bool {
	for p.peek() == ';' {
		p.i++
		for p.peek() == ' ' {
			p.i++
		}
		if _, ok := p.key(); !ok {
			return false
		}
		if p.peek() == '=' {
			p.i++
			if _, ok := p.bareItem(); !ok {
				return false
			}
		}
	}
	return true
}
