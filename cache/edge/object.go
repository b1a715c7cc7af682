package edge

import (
	"net/http"
	"sync/atomic"
	"time"
)

// object is one stored response (or, with marker set, the Vary of a
// primary key whose variants live under secondary keys). Objects are
// immutable once stored: a 304 builds a new one.
type object struct {
	marker bool     // primary-key entry naming the Vary; the variants are stored apart
	vary   varySpec // the response's Vary (star responses are never stored)
	key    string   // storage key (primary, or primary+secondary)
	prim   string   // primary key

	status int
	header http.Header // as sent downstream: hop-by-hop, surrogate keys and private fields removed
	body   []byte

	reqTime, respTime time.Time // request_time and response_time (RFC 9111 §4.2.3)
	date              time.Time
	ageValue          int64
	correctedAge      time.Duration // corrected_initial_age
	lifetime          time.Duration // freshness_lifetime (0 for a stale-on-arrival response)
	cc                directives    // the governing directives (targeted field, else Cache-Control)
	etag, lastMod     string
	surrogate         []string
	size              int64
	hit               atomic.Pointer[hitValues] // the last hit's Age and Cache-Status
}

// age is current_age at now (RFC 9111 §4.2.3).
func (o *object) age(now time.Time) time.Duration {
	resident := now.Sub(o.respTime)
	if resident < 0 {
		resident = 0
	}
	return o.correctedAge + resident
}

// setAge computes corrected_initial_age from the response's Date, Age and
// the request and response times.
func (o *object) setAge() {
	apparent := max(o.respTime.Sub(o.date), 0)
	delay := max(o.respTime.Sub(o.reqTime), 0)
	corrected := time.Duration(o.ageValue)*time.Second + delay
	// A Date centuries ago saturates apparent at the largest Duration,
	// which adding the resident time would wrap to a negative age (fresh
	// forever): cap it at 2^31 seconds, the largest Age (§1.2.2).
	o.correctedAge = min(max(apparent, corrected), maxAge)
}

// maxAge is the largest age kept: 2^31 seconds (RFC 9111 §1.2.2).
const maxAge = maxDelta * time.Second

// governing returns the directives that govern caching: the first valid
// targeted field present (RFC 9213 §2.2), else Cache-Control, and whether
// a targeted field was used (it makes Expires irrelevant).
func governing(h http.Header, targeted []string) (directives, bool) {
	for _, f := range targeted {
		if lines, ok := h[f]; ok {
			if d, ok := parseTargeted(lines); ok {
				return d, true
			}
		}
	}
	return parseCacheControl(h["Cache-Control"]), false
}

// heuristicStatus are the status codes heuristically cacheable by default
// (RFC 9110 §15.1).
func heuristicStatus(code int) bool {
	switch code {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// understood are the status codes this cache implements the caching rules
// of (for must-understand, RFC 9111 §5.2.2.3): the final codes it stores.
func understood(code int) bool {
	return heuristicStatus(code) && code != 206 || code == 302 || code == 307 || code == 303
}

// freshness computes freshness_lifetime (RFC 9111 §4.2.1) for a shared
// cache, and whether it is heuristic. Malformed or conflicting explicit
// freshness makes the response stale on arrival.
func (c *Cache) freshness(o *object, h http.Header, targeted bool) (time.Duration, bool) {
	d := &o.cc
	if d.sMaxAge != absent {
		return deltaDur(d.sMaxAge), false
	}
	if d.maxAge != absent {
		return deltaDur(d.maxAge), false
	}
	if !targeted {
		if exp, ok := parseExpires(h["Expires"]); ok {
			return max(exp.Sub(o.date), 0), false
		}
	}
	if c.o.Heuristic < 0 || !(heuristicStatus(o.status) || d.has(ccPublic)) {
		return 0, false
	}
	if lm, ok := parseDate(h["Last-Modified"]); ok && lm.Before(o.date) {
		f := time.Duration(float64(o.date.Sub(lm)) * c.o.Heuristic)
		return min(f, c.o.MaxHeuristic), true
	}
	return 0, true
}

func deltaDur(v int64) time.Duration {
	if v < 0 { // malformed
		return 0
	}
	return time.Duration(v) * time.Second
}

// explicit reports whether the response carries explicit freshness or an
// explicit permission to store (RFC 9111 §3 for a shared cache).
func explicit(d *directives, h http.Header, targeted bool) bool {
	if targeted || d.has(ccPublic) || d.maxAge != absent || d.sMaxAge != absent {
		return true
	}
	_, ok := h["Expires"]
	return ok
}

// staleForbidden reports whether a stale response must not be served
// without revalidation (RFC 9111 §4.2.4): no-cache, must-revalidate,
// proxy-revalidate. s-maxage implies proxy-revalidate for client max-stale
// and the default StaleIfError, but the response's own stale-while-revalidate
// and stale-if-error are explicit permission from the same origin and are honoured.
func (o *object) staleForbidden() bool {
	return o.cc.has(ccNoCache|ccMustRevalidate|ccProxyRevalidate) || o.cc.maxAge == malformed || o.cc.sMaxAge == malformed
}
