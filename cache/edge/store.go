package edge

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"
)

var fakeTLS = &tls.ConnectionState{}

// built is the cache's view of an origin response: what readers are sent
// and, if it may be stored, the object (body still to come).
type built struct {
	leader     http.Header // sent to the client whose request fetched it
	downstream http.Header // sent to anyone else (private fields and Set-Cookie removed)
	obj        *object     // nil: not storable, not shareable
	marker     *object     // the primary-key Vary marker, for a response with Vary
	vary       varySpec
	pass       bool // not shareable for a reason of the URL's, not of the request's (see hitForMiss)
}

// buildFor judges a response to f's leader request.
func (c *Cache) buildFor(code int, h http.Header, f *fill, now time.Time) built {
	return c.judge(code, h, f.start, now, f.prim, f.lhdr, &f.rq)
}

// build judges a stored response freshened by a 304 (no request constraints).
func (c *Cache) build(code int, h http.Header, reqTime, now time.Time, prim string) *built {
	b := c.judge(code, h, reqTime, now, prim, nil, nil)
	return &b
}

// judge prepares a response for downstream and decides whether a shared
// cache may store it (RFC 9111 §3, §3.1, §3.5, §5.2.2).
func (c *Cache) judge(code int, src http.Header, reqTime, now time.Time, prim string, reqHdr http.Header, rq *directives) built {
	h := src.Clone()
	if h == nil {
		h = http.Header{}
	}
	stripHopByHop(h)
	var surrogate []string
	for _, l := range h[c.o.SurrogateKeyHeader] {
		surrogate = append(surrogate, strings.Fields(l)...)
	}
	delete(h, c.o.SurrogateKeyHeader)
	d, targeted := governing(h, c.o.Targeted)
	if c.o.StripTargeted {
		for _, f := range c.o.Targeted {
			delete(h, f)
		}
	}
	date, ok := parseDate(h["Date"])
	if !ok {
		date = now
		h["Date"] = []string{now.UTC().Format(http.TimeFormat)}
	}
	b := built{leader: h, downstream: h, vary: parseVary(h["Vary"])}
	_, cookie := h["Set-Cookie"]
	b.pass = code < 500 && (b.vary.star || d.has(ccPrivate) ||
		d.has(ccNoStore) && !(d.has(ccMustUnderstand) && understood(code)) ||
		cookie && !(d.has(ccPublic) || d.sMaxAge >= 0 || targeted))
	if !c.storable(code, &d, h, targeted, reqHdr, rq) || b.vary.star || !framed(h) {
		return b
	}
	if cookie && !(d.has(ccPublic) || d.sMaxAge >= 0 || targeted) {
		return b // a personalised response; see the package doc
	}
	stored := h
	if len(d.privFields) > 0 || cookie {
		stored = h.Clone()
		for _, f := range d.privFields {
			delete(stored, f) // §5.2.2.7: a shared cache must not store them
		}
		delete(stored, "Set-Cookie")
		b.downstream = stored
	}
	if len(d.noCacheFields) > 0 {
		// §5.2.2.4: stored, but sent to no other request (a collapsed
		// follower) without revalidation.
		b.downstream = withoutFields(stored, d.noCacheFields)
	}
	o := &object{
		status: code, header: stored, prim: prim, key: prim, vary: b.vary,
		reqTime: reqTime, respTime: now, date: date, cc: d, surrogate: surrogate,
		etag: strings.TrimSpace(stored.Get("Etag")), lastMod: stored.Get("Last-Modified"),
	}
	if opaque(o.etag) == "" {
		o.etag = ""
	}
	if _, err := http.ParseTime(o.lastMod); err != nil {
		o.lastMod = ""
	}
	if age, ok := parseAge(h["Age"]); ok {
		o.ageValue = age
	}
	o.setAge()
	o.lifetime, _ = c.freshness(o, h, targeted)
	if o.lifetime <= 0 && o.etag == "" && o.lastMod == "" {
		return b // stale on arrival and not revalidatable: storing it helps nobody
	}
	if len(b.vary.fields) > 0 {
		if reqHdr != nil {
			var buf [128]byte
			o.key = string(secondaryKey(append(buf[:0], prim...), &b.vary, reqHdr))
		}
		b.marker = &object{marker: true, vary: b.vary, prim: prim, key: prim}
	}
	o.size = int64(len(o.key)) + 64
	for k, v := range stored {
		o.size += int64(len(k)) + 4
		for _, s := range v {
			o.size += int64(len(s)) + 2
		}
	}
	b.obj = o
	return b
}

// withoutFields returns h without the named fields (h itself if none is present).
func withoutFields(h http.Header, fields []string) http.Header {
	var out http.Header
	for _, f := range fields {
		if _, ok := h[f]; ok {
			if out == nil {
				out = h.Clone()
			}
			delete(out, f)
		}
	}
	if out == nil {
		return h
	}
	return out
}

// framed reports whether h's Content-Length, if any, is one valid length
// (RFC 9112 §6.3: conflicting or invalid values are a framing error; a
// stored copy would replay them on every hit). Identical duplicate lines
// are folded into one.
func framed(h http.Header) bool {
	cl, ok := h["Content-Length"]
	if !ok {
		return true
	}
	for _, v := range cl[1:] {
		if strings.TrimSpace(v) != strings.TrimSpace(cl[0]) {
			return false
		}
	}
	if _, ok := parseDelta(strings.TrimSpace(cl[0])); !ok {
		return false
	}
	if len(cl) > 1 {
		h["Content-Length"] = cl[:1]
	}
	return true
}

// storable applies RFC 9111 §3 for a shared cache.
func (c *Cache) storable(code int, d *directives, h http.Header, targeted bool, reqHdr http.Header, rq *directives) bool {
	if code < 200 || code == http.StatusPartialContent || code == http.StatusNotModified {
		return false
	}
	if rq != nil && rq.has(ccNoStore) {
		return false
	}
	if d.has(ccMustUnderstand) {
		if !understood(code) {
			return false
		}
	} else if d.has(ccNoStore) {
		return false
	}
	if d.has(ccPrivate) {
		return false
	}
	if reqHdr != nil {
		if _, auth := reqHdr["Authorization"]; auth && !(d.has(ccPublic|ccMustRevalidate) || d.sMaxAge >= 0) {
			return false // §3.5
		}
	}
	return explicit(d, h, targeted) || heuristicStatus(code)
}

// pass sends r to the origin uncached, adding Cache-Status; after an unsafe
// method's non-error response it invalidates (§4.4).
func (c *Cache) pass(w http.ResponseWriter, r *http.Request, fwd string, unsafe bool) {
	pw := &passWriter{ResponseWriter: w, c: c, fwd: fwd}
	if perr := c.callOrigin(pw, r); perr != nil {
		c.o.Logger.Error("edge: origin handler panicked", "err", perr, "key", redact(c.key(r)))
		if pw.code == 0 {
			http.Error(w, "502 bad gateway", http.StatusBadGateway)
			return
		}
		panic(http.ErrAbortHandler)
	}
	if pw.code == 0 {
		pw.WriteHeader(http.StatusOK)
	}
	if unsafe && pw.code >= 200 && pw.code < 400 {
		c.invalidate(r, pw.Header())
	}
}

type passWriter struct {
	http.ResponseWriter
	c    *Cache
	fwd  string
	code int
}

func (w *passWriter) WriteHeader(code int) {
	if w.code != 0 {
		return
	}
	if code >= 200 {
		w.code = code
		h := w.Header()
		delete(h, w.c.o.SurrogateKeyHeader)
		if w.c.o.StripTargeted {
			for _, f := range w.c.o.Targeted {
				delete(h, f)
			}
		}
		h["Cache-Status"] = []string{appendStatus(h["Cache-Status"], w.c.o.Name+"; "+w.fwd+"; fwd-status="+itoa(code))}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *passWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *passWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *passWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// backgroundRevalidate starts one revalidation of o for prim unless one is
// already running (RFC 5861 §3).
func (c *Cache) backgroundRevalidate(r *http.Request, prim, fkey string, o *object) {
	c.mu.Lock()
	// A fill or revalidation past OriginTimeout (its handler may ignore
	// its context and hang) does not stop a new one.
	if f := c.inflight[fkey]; c.closed || f != nil && f.ctx.Err() == nil {
		c.mu.Unlock()
		return
	}
	if f := c.refresh[fkey]; f != nil && f.ctx.Err() == nil {
		c.mu.Unlock()
		return
	}
	if e, ok := c.store.Get(fkey); !ok || e.Value != o {
		c.mu.Unlock()
		return // refreshed (or purged) since the caller's lookup
	}
	rq := directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent, maxStale: absent, minFresh: absent}
	f := c.newFill(r, prim, fkey, o, &rq)
	c.inflight[fkey] = f
	c.refresh[fkey] = f
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer func() {
			c.mu.Lock()
			if c.refresh[fkey] == f {
				delete(c.refresh, fkey)
			}
			c.mu.Unlock()
		}()
		c.runFill(f, "fwd=stale")
	}()
}
