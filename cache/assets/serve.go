package assets

import (
	"bytes"
	"net/http"
	"strings"
	"time"
)

// ServeHTTP serves GET and HEAD for the names below Prefix: hashed names
// with "Cache-Control: public, max-age=31536000, immutable", logical names
// with "no-cache" (so caches revalidate them), both with a strong ETag,
// X-Content-Type-Options: nosniff, and 304 for a matching If-None-Match
// or, without one, a satisfied If-Modified-Since. Only hashed names send
// Last-Modified (the file's modification time or, without one, the time
// of New): a logical name's bytes change between builds while file times
// need not move forward (rollbacks, reproducible builds, embed.FS), so its
// validator is the ETag alone and If-Modified-Since does not apply. Range,
// If-Range, If-Match and If-Unmodified-Since are handled by
// http.ServeContent over the same bytes. A precompressed variant is chosen
// by Accept-Encoding, with Vary: Accept-Encoding on every response of an
// asset that has one.
//
// The path is looked up as is in a map of the names New produced: nothing
// else is ever opened, so no request path (with "..", encoded separators,
// backslashes or NUL) can reach a file outside the FS. Unknown names get a
// 404 marked no-store, so a CDN does not pin the 404 a new page's hash gets
// from an instance still running the old build. Other methods get 405 with
// Allow: GET, HEAD.
//
// Header values are shared read-only slices (so a hit allocates nothing):
// middleware may Set, Add or Del them, never write into them in place.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["X-Content-Type-Options"] = hNosniff
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		a.m.count(resultMethod, 0)
		h["Allow"] = hAllow
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var rt route
	name, ok := strings.CutPrefix(r.URL.Path, a.prefix)
	if ok {
		rt, ok = a.routes[name]
	}
	if !ok {
		a.m.count(resultNotFound, 0)
		h["Cache-Control"] = hNoStore
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	x := rt.a
	body, etag, length := x.negotiate(h, r.Header["Accept-Encoding"])
	result, mod := resultLogical, time.Time{}
	if rt.hashed {
		result, mod = resultHashed, x.hashedMod
		h["Cache-Control"] = hImmutable
		h["Last-Modified"] = x.hHashedLastMod
	} else {
		h["Cache-Control"] = hNoCache
	}
	h["Etag"] = etag
	h["Content-Type"] = x.hType

	rh := r.Header
	if rh["Range"] != nil || rh["If-Match"] != nil || rh["If-Unmodified-Since"] != nil {
		a.serveContent(w, r, body, length, mod, result, len(x.variants) > 0)
		return
	}
	if notModified(rh, etag[0], mod) {
		delete(h, "Content-Type")
		delete(h, "Content-Encoding")
		delete(h, "Last-Modified") // an ETag is sent (RFC 9110 §15.4.5)
		w.WriteHeader(http.StatusNotModified)
		a.m.count(resultNotModified, 0)
		return
	}
	h["Content-Length"] = length
	h["Accept-Ranges"] = hBytes
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		a.m.count(result, 0)
		return
	}
	n, _ := w.Write(body)
	a.m.count(result, int64(n))
}

// negotiate picks the representation for an Accept-Encoding field and
// sets Vary and Content-Encoding for it.
func (x *asset) negotiate(h http.Header, accept []string) (body []byte, etag, length []string) {
	if len(x.variants) == 0 {
		return x.data, x.hETag, x.hLen
	}
	if v := h["Vary"]; len(v) == 0 {
		h["Vary"] = hVary
	} else { // keep what a middleware set before us (Vary: Origin)
		h["Vary"] = append(v[:len(v):len(v)], "Accept-Encoding")
	}
	i := pickVariant(accept, x.variants)
	if i < 0 {
		return x.data, x.hETag, x.hLen
	}
	v := &x.variants[i]
	h["Content-Encoding"] = v.hCE
	return v.data, v.hETag, v.hLen
}

// serveContent answers the rarer preconditions and ranges through
// net/http, which implements them (RFC 9110 §13.2.2 order, multipart
// ranges, 412 and 416), over the representation's bytes.
//
// Error responses (412, 416) are marked no-store and lose the 200's
// Cache-Control, Content-Encoding and validators: under "public, max-age"
// a shared cache may store any status (RFC 9111 §3), so one hostile
// If-Match forwarded by a CDN would pin a 412 on the URL for a year.
// ServeContent drops some of them itself, but not for a 412, nor with
// GODEBUG=httpservecontentkeepheaders=1.
//
// Several ranges of an encoded variant are not served: a multipart body
// is not a gzip or br stream, yet Content-Encoding applies to the whole
// content (RFC 9110 §8.4), so the client could not decode it. The Range is
// ignored instead (§14.2 allows it) and the whole variant sent; a single
// range of the encoded bytes is fine.
//
// For an asset with variants, an If-Range holding a date is false (the
// Range is ignored): its identity, gzip and br bytes share one
// Last-Modified, so the date is no strong validator (§8.8.2.2, §13.1.5)
// and could splice gzip bytes onto identity ones.
func (a *Assets) serveContent(w http.ResponseWriter, r *http.Request, body []byte, length []string, mod time.Time, result int, variants bool) {
	if ir := r.Header["If-Range"]; variants && len(ir) > 0 && r.Header["Range"] != nil {
		if v := trimOWS(ir[0]); !strings.HasPrefix(v, `"`) && !strings.HasPrefix(v, "W/") {
			r = withoutField(r, "Range")
		}
	}
	if w.Header()["Content-Encoding"] != nil {
		// ServeContent leaves a full response's length unset when
		// Content-Encoding is (for handlers compressing on the fly); these
		// bytes are already encoded. It resets it for ranges and errors.
		w.Header()["Content-Length"] = length
		if rg := r.Header["Range"]; len(rg) > 1 || len(rg) == 1 && strings.Contains(rg[0], ",") {
			r = withoutField(r, "Range")
		}
	}
	if len(r.Header["If-Modified-Since"]) > 1 { // ServeContent would read the first
		r = withoutField(r, "If-Modified-Since")
	}
	cw := countingWriter{ResponseWriter: w}
	http.ServeContent(&cw, r, "", mod, bytes.NewReader(body))
	n := cw.n
	switch cw.status {
	case http.StatusNotModified:
		result = resultNotModified
	case http.StatusPreconditionFailed:
		result, n = resultPrecondition, 0
	case http.StatusRequestedRangeNotSatisfiable:
		result, n = resultRange, 0
	}
	a.m.count(result, n)
}

// withoutField returns a shallow copy of r without one header field.
func withoutField(r *http.Request, name string) *http.Request {
	r2 := *r
	r2.Header = r.Header.Clone()
	delete(r2.Header, name)
	return &r2
}

// notModified evaluates If-None-Match (weak comparison), or without it
// If-Modified-Since (RFC 9110 §13.2.2 steps 3 and 4; the caller has
// sent the requests with steps 1 and 2 elsewhere).
func notModified(rh http.Header, etag string, mod time.Time) bool {
	if inm := rh["If-None-Match"]; inm != nil {
		return noneMatch(inm, etag)
	}
	ims := rh["If-Modified-Since"]
	if len(ims) != 1 || mod.IsZero() { // more than one member: ignored (§13.1.3)
		return false
	}
	t, err := http.ParseTime(ims[0])
	return err == nil && !mod.After(t)
}

// countingWriter counts the body bytes and keeps the status of a response
// written by http.ServeContent.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	if code >= 400 {
		h := c.Header()
		h["Cache-Control"] = hNoStore
		delete(h, "Content-Encoding")
		delete(h, "Etag")
		delete(h, "Last-Modified")
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
