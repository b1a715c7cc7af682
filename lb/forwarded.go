package lb

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Trusted is a set of proxy networks whose forwarding headers are believed.
type Trusted []netip.Prefix

// ParseTrusted parses CIDRs ("10.0.0.0/8") and bare addresses ("127.0.0.1").
func ParseTrusted(cidrs ...string) (Trusted, error) {
	out := make(Trusted, 0, len(cidrs))
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if !strings.Contains(c, "/") {
			a, err := netip.ParseAddr(c)
			if err != nil {
				return nil, fmt.Errorf("%w: TrustedProxies %q: not an address or CIDR", ErrInvalidOptions, c)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("%w: TrustedProxies %q: not an address or CIDR", ErrInvalidOptions, c)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// ::ffff:10.0.0.0/104 means 10.0.0.0/8: peers are compared unmapped.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Contains reports whether a is in one of the networks.
func (t Trusted) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// peerAddr is the address of the connection's remote end, unmapped and
// without an IPv6 zone (an interface name, meaningless to backends).
func peerAddr(r *http.Request) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap().WithZone(""), err == nil
}

// forwardedChain parses X-Forwarded-For values into addresses, oldest
// first. It stops at the first malformed element and returns only what came
// after it (nearer to us), since anything before it cannot be trusted.
func forwardedChain(values []string) []netip.Addr {
	var out []netip.Addr
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, err := netip.ParseAddr(strings.Trim(part, "[]"))
			if err != nil {
				if ap, err2 := netip.ParseAddrPort(part); err2 == nil {
					a, err = ap.Addr(), nil
				}
			}
			if err != nil || a.Zone() != "" {
				out = out[:0]
				continue
			}
			out = append(out, a.Unmap())
		}
	}
	return out
}

// ClientIP returns the address of the client that sent r: the connection's
// peer, unless that peer is a trusted proxy, in which case the
// X-Forwarded-For chain is walked back past trusted proxies to the first
// address that is not one. Forwarding headers from untrusted peers are
// ignored, so they cannot be spoofed.
func ClientIP(r *http.Request, trusted Trusted) netip.Addr {
	peer, ok := peerAddr(r)
	if !ok || !trusted.Contains(peer) {
		return peer
	}
	chain := forwardedChain(r.Header.Values("X-Forwarded-For"))
	for i := len(chain) - 1; i >= 0; i-- {
		if !trusted.Contains(chain[i]) {
			return chain[i]
		}
		peer = chain[i]
	}
	return peer
}

// forwardedFor is the X-Forwarded-For to send upstream: the trusted part of
// the incoming chain, cleaned, followed by the peer.
func forwardedFor(r *http.Request, trusted Trusted) string {
	peer, ok := peerAddr(r)
	return forwardedForPeer(r, trusted, peer, ok, peer.String())
}

// forwardedForPeer is forwardedFor given r's peer from peerAddr and its
// string, which the proxy also sends as X-Real-IP.
func forwardedForPeer(r *http.Request, trusted Trusted, peer netip.Addr, ok bool, peerStr string) string {
	if !ok {
		return ""
	}
	if !trusted.Contains(peer) {
		return peerStr // the common case: no chain to keep
	}
	var b strings.Builder
	for _, a := range forwardedChain(r.Header.Values("X-Forwarded-For")) {
		b.WriteString(a.String())
		b.WriteString(", ")
	}
	b.WriteString(peerStr)
	return b.String()
}

// HashKey functions extract the key a [Hash] policy routes on.

// ClientIPKey keys requests by [ClientIP]; requests whose client address is
// unknown (a unix socket peer) have no key and are balanced.
func ClientIPKey(trusted Trusted) func(*http.Request) string {
	return func(r *http.Request) string {
		if a := ClientIP(r, trusted); a.IsValid() {
			return a.String()
		}
		return ""
	}
}

// HeaderKey keys requests by a header's value.
func HeaderKey(name string) func(*http.Request) string {
	name = http.CanonicalHeaderKey(name)
	return func(r *http.Request) string { return r.Header.Get(name) }
}

// CookieKey keys requests by a cookie's value.
func CookieKey(name string) func(*http.Request) string {
	return func(r *http.Request) string {
		if c, err := r.Cookie(name); err == nil {
			return c.Value
		}
		return ""
	}
}

// clientIPHeaders are the headers besides X-Forwarded-* and X-Real-IP that
// backends, frameworks and CDNs read a client's address (or, for the last
// two, the original path) from (canonical spelling); the proxy forwards them
// from trusted peers only.
var clientIPHeaders = map[string]bool{
	"True-Client-Ip": true, "X-Client-Ip": true, "Cf-Connecting-Ip": true, "X-Cluster-Client-Ip": true,
	"X-Original-Forwarded-For": true, "X-Forwarded": true, "Fastly-Client-Ip": true, "Client-Ip": true,
	"X-Originating-Ip": true, "X-Remote-Ip": true, "X-Remote-Addr": true, "X-Proxyuser-Ip": true,
	"Forwarded": true,
	// Not addresses, but set only by a front proxy too: they override the
	// request path in backends that honour them (Symfony, Zend, IIS URL
	// Rewrite), past the path the proxy cleaned and checked.
	"X-Original-Url": true, "X-Rewrite-Url": true,
}

// forwardingHeader reports whether canon (a canonical header key) is one
// the proxy strips from untrusted peers.
func forwardingHeader(canon string) bool {
	return strings.HasPrefix(canon, "X-Forwarded-") || canon == "X-Real-Ip" || clientIPHeaders[canon]
}

// stripForwarding removes from h the forwarding headers the proxy does not
// set itself: every X-Forwarded-* header and every header of clientIPHeaders
// unless the peer is trusted, and always their spellings with underscores
// (X_Forwarded_For, True_Client_IP), which CGI-style backends (PHP, WSGI,
// Rack) fold into the same HTTP_X_FORWARDED_FOR variable as the real header.
func stripForwarding(h http.Header, trusted bool) {
	for k := range h {
		canon := k
		if strings.IndexByte(k, '_') >= 0 {
			canon = http.CanonicalHeaderKey(strings.ReplaceAll(k, "_", "-"))
		}
		switch {
		case canon != k && forwardingHeader(canon):
			delete(h, k)
		case !trusted && forwardingHeader(k) && k != "X-Real-Ip": // X-Real-IP is replaced
			delete(h, k)
		}
	}
}

// upgradesToH2C reports whether h asks to switch to cleartext HTTP/2.
func upgradesToH2C(h http.Header) bool {
	for _, v := range h.Values("Upgrade") {
		for tok := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "h2c") {
				return true
			}
		}
	}
	return false
}

// lastForwardedHost returns the X-Forwarded-Host set by the nearest proxy:
// the last element of the (possibly repeated, comma-separated) header, if it
// is a valid host.
func lastForwardedHost(values []string) (string, bool) {
	if v, ok := lastForwarded(values); ok && validHost(v) {
		return v, true
	}
	return "", false
}

// lastForwarded returns the last element of a possibly repeated,
// comma-separated forwarding header: the one the nearest proxy added.
func lastForwarded(values []string) (string, bool) {
	if len(values) == 0 {
		return "", false
	}
	v := values[len(values)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimSpace(v)
	return v, v != ""
}

// validHost accepts a host name or address with an optional port: letters,
// digits and -._~:[]% only, nothing a backend could read as a second value,
// a path or a header.
func validHost(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:[]%", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
