package edge

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ladder-go/ladder/cache"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// A fill is one origin fetch that every concurrent miss for a key reads
// (Traffic Server's read-while-writer): the fetch runs in a goroutine the
// Cache owns, under a context detached from any client (it keeps the
// trace context) and bounded by OriginTimeout; the body accumulates in a
// growing buffer that readers stream from as it arrives. A response that
// may not be shared (private, no-store, Vary: *, a different variant)
// releases the followers, who then go to the origin on their own.
//
// A body larger than MaxObjectSize is no longer stored: from then on the
// buffer keeps only what the slowest reader has not yet sent (a window),
// and the fetch waits for readers when the window is full, so memory stays
// bounded however large the body.
type fill struct {
	c      *Cache
	prim   string        // primary key
	fkey   string        // key in Cache.inflight: the variant's storage key where known, else prim
	stale  *object       // the stored response being revalidated, or nil
	rq     directives    // the leader's request directives
	lhdr   http.Header   // the leader's request header (for Vary checks)
	out    *http.Request // the request sent to the origin
	ctx    context.Context
	cancel context.CancelFunc
	idle   *time.Timer // cancels ctx after OriginTimeout of origin silence
	start  time.Time

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change

	ready      bool        // status and header published
	status     int         // sent downstream
	header     http.Header // sent to followers (without Cache-Status)
	lheader    http.Header // sent to the leader (may hold its private fields and Set-Cookie)
	purged     bool        // a purge ran during the fill: store nothing
	purgedKeys []string    // surrogate keys purged during the fill: store nothing tagged with one
	cs         string      // Cache-Status, after the cache name
	shared     bool        // followers may use this response
	vary       varySpec
	age        time.Duration // Age of a response served from storage (-1: none)
	storing    bool          // the body is being kept to store
	obj        *object       // the object being filled (header part)
	kind       fillKind

	buf     []byte // body bytes from offset base
	base    int64
	done    bool
	failed  bool // the body ended early (origin panic or broken)
	readers map[*int64]struct{}
}

type fillKind int

const (
	kindStream    fillKind = iota // the origin's response, streamed
	kindValidated                 // 304: the stored response, freshened
	kindStaleErr                  // an origin error replaced by the stale response
)

// window is how much of an unstored body the fill buffers ahead of its slowest reader.
const window = 256 << 10

// stallCut is how long a reader a whole window behind the others may go
// without reading a quarter window before it is cut, when another reader
// waits for the body (a client reading under ~6 KB/s, or not at all). It
// is a bound the cache keeps for itself: monotonic clock, not Options.Now.
const stallCut = 10 * time.Second

// cutPos marks a cut reader's position.
const cutPos = math.MinInt64 / 2

func (f *fill) broadcast() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// noStore stops the fill from storing (a purge ran during it).
func (f *fill) noStore() {
	f.mu.Lock()
	f.storing = false
	f.obj = nil
	f.purged = true
	f.broadcast()
	f.mu.Unlock()
}

// fetch answers r through the fill for prim, joining one in flight.
//
// alone (the key is marked hit-for-miss) makes a fill nobody joins.
func (c *Cache) fetch(w http.ResponseWriter, r *http.Request, prim, fkey string, stale *object, rq *directives, fwd string, retry, alone bool) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.pass(w, r, fwd, false)
		return
	}
	var f *fill
	if !alone {
		f = c.inflight[fkey]
	}
	if f != nil {
		f.mu.Lock()
		// A response already under way that will not be stored is not
		// joined: its start may be gone from the buffer.
		// Nor is one past OriginTimeout: its handler may be hung past
		// its context, and the origin may answer a new request.
		// Nor one whose body failed: a new fetch may well succeed.
		joinable := (!f.ready || f.storing) && !f.failed && f.ctx.Err() == nil
		f.mu.Unlock()
		if !joinable {
			f = nil
		}
	}
	leader := f == nil
	if leader && retry {
		// A fill that finished between the caller's lookup and here has
		// stored its response (put runs before leave, both under c.mu):
		// look again rather than fetch it a second time.
		if o, _, _ := c.lookup(prim, r.Header); o != nil && o != stale {
			c.mu.Unlock()
			c.serve(w, r, false)
			return
		}
	}
	if leader {
		f = c.newFill(r, prim, fkey, stale, rq)
		if !alone {
			c.inflight[fkey] = f
		}
		c.wg.Add(1)
	}
	pos := new(int64)
	f.mu.Lock()
	f.readers[pos] = struct{}{}
	f.mu.Unlock()
	c.mu.Unlock()
	if leader {
		c.stats.misses.Add(1)
		go c.runFill(f, fwd)
	} else {
		c.stats.collapsed.Add(1)
	}
	if !c.read(w, r, f, pos, leader) {
		f.mu.Lock()
		shared, vary := f.shared, f.vary
		f.mu.Unlock()
		if shared && stale == nil && fkey == prim && len(vary.fields) > 0 {
			// Released as another variant of a URI not known to vary:
			// collapse with the clients of this variant on its own key
			// (once: that fill is keyed by the variant).
			var buf [128]byte
			sk := string(secondaryKey(append(buf[:0], prim...), &vary, r.Header))
			c.fetch(w, r, prim, sk, nil, rq, "fwd=vary-miss", retry, false)
			return
		}
		c.pass(w, r, fwd, false) // released: the response is not for sharing
	}
}

func (c *Cache) newFill(r *http.Request, prim, fkey string, stale *object, rq *directives) *fill {
	// OriginTimeout bounds the origin's silence (until its header, then
	// between body writes), not the whole fetch: a large body streaming
	// to a slow client takes as long as the client reads.
	ctx, cancelCause := context.WithCancelCause(context.WithoutCancel(r.Context()))
	cancel := func() { cancelCause(context.DeadlineExceeded) }
	stop := context.AfterFunc(c.base, cancel)
	idle := time.AfterFunc(c.o.OriginTimeout, cancel)
	// The outgoing request is built here, in the client's handler, never
	// from r after that handler may have returned.
	out := r.Clone(ctx)
	out.Method = http.MethodGet
	out.Body = http.NoBody
	out.ContentLength = 0
	for _, h := range [...]string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"} {
		delete(out.Header, h)
	}
	lhdr := out.Header.Clone()
	if stale != nil {
		if stale.etag != "" {
			out.Header.Set("If-None-Match", stale.etag)
		}
		if stale.lastMod != "" {
			out.Header.Set("If-Modified-Since", stale.lastMod)
		}
	}
	f := &fill{
		c: c, prim: prim, fkey: fkey, stale: stale, rq: *rq, lhdr: lhdr, ctx: ctx, out: out,
		idle:    idle,
		cancel:  func() { stop(); idle.Stop(); cancel() },
		start:   c.o.Now(),
		changed: make(chan struct{}), readers: map[*int64]struct{}{}, age: -1,
	}
	return f
}

// read streams f's response to w. It returns false if this follower must
// go to the origin itself.
func (c *Cache) read(w http.ResponseWriter, r *http.Request, f *fill, pos *int64, leader bool) bool {
	defer func() {
		f.mu.Lock()
		delete(f.readers, pos)
		abandon := len(f.readers) == 0 && !f.storing && !f.done && f.ready
		f.broadcast()
		f.mu.Unlock()
		if abandon {
			f.cancel() // nobody reads and nothing is stored: stop fetching
		}
	}()
	// Wait for the status and header.
	for {
		f.mu.Lock()
		ready, ch := f.ready, f.changed
		f.mu.Unlock()
		if ready {
			break
		}
		select {
		case <-ch:
		case <-r.Context().Done():
			return true
		case <-f.ctx.Done():
			f.mu.Lock()
			ready = f.ready
			f.mu.Unlock()
			if !ready {
				if c.staleIfError(f.stale, &f.rq, c.o.Now()) {
					now := c.o.Now()
					c.stats.stale.Add(1)
					c.serveStored(w, r, f.stale, f.stale.age(now), now, "fwd=stale", "detail=origin-timeout")
					return true
				}
				http.Error(w, "504 gateway timeout: origin did not answer", http.StatusGatewayTimeout)
				return true
			}
		}
	}
	if !leader {
		if !f.shared || len(f.vary.fields) > 0 && !sameVariant(&f.vary, f.lhdr, r.Header) {
			return false
		}
	}
	h := w.Header()
	src := f.header
	if leader && f.lheader != nil {
		src = f.lheader
	}
	for k, v := range src {
		h[k] = v[:len(v):len(v)]
	}
	if f.cs != "" { // "" for an error the cache generated (RFC 9211 §2: no member)
		cs := c.o.Name + "; " + f.cs
		if !leader {
			cs += "; collapsed"
		}
		h["Cache-Status"] = []string{appendStatus(src["Cache-Status"], cs)}
	}
	if f.age >= 0 {
		h["Age"] = []string{strconv.FormatInt(int64(f.age/time.Second), 10)}
	}
	// A client's conditional request is answered 304 when the response
	// (fetched whole: the cache strips the client's validators) matches and
	// is one the cache stores (§4.3.2: not for a response it cannot store).
	if f.shared && conditionMet(r, f.status, strings.TrimSpace(src.Get("Etag")), src.Get("Last-Modified")) {
		for k := range h {
			switch k {
			case "Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Vary", "Last-Modified", "Age", "Cache-Status":
			default:
				delete(h, k)
			}
		}
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	w.WriteHeader(f.status)
	if r.Method == http.MethodHead {
		return true
	}
	fl, _ := w.(http.Flusher)
	for {
		f.mu.Lock()
		off := *pos - f.base
		if off < 0 { // cut: a whole window behind the other readers
			f.mu.Unlock()
			panic(http.ErrAbortHandler)
		}
		var chunk []byte
		if off < int64(len(f.buf)) {
			chunk = f.buf[off:len(f.buf):len(f.buf)]
		}
		done, failed, ch := f.done, f.failed, f.changed
		f.mu.Unlock()
		if len(chunk) > 0 {
			if _, err := w.Write(chunk); err != nil {
				return true
			}
			f.mu.Lock()
			*pos += int64(len(chunk))
			f.broadcast()
			f.mu.Unlock()
			continue
		}
		if done {
			if failed {
				if fl != nil {
					fl.Flush() // what arrived, then the cut
				}
				panic(http.ErrAbortHandler) // the client must see a truncated body, not a short complete one
			}
			return true
		}
		if fl != nil {
			fl.Flush()
		}
		select {
		case <-ch:
		case <-r.Context().Done():
			return true
		}
	}
}

func sameVariant(v *varySpec, a, b http.Header) bool {
	var x, y [128]byte
	return string(secondaryKey(x[:0], v, a)) == string(secondaryKey(y[:0], v, b))
}

// runFill fetches from the origin and publishes the result to f's readers.
func (c *Cache) runFill(f *fill, fwd string) {
	defer c.wg.Done()
	defer f.cancel()
	defer c.leave(f)
	// One span per origin fetch, a child of the request that started it
	// (the detached context keeps its trace); the origin handler's own
	// spans nest under it.
	ctx, span := c.tracer.Start(f.ctx, "edge fill", trace.WithSpanKind(trace.SpanKindInternal))
	spanEnded := false
	defer func() {
		if !spanEnded { // the origin handler panicked past callOrigin
			span.End()
		}
	}()
	out := f.out.WithContext(ctx)
	fw := &fillWriter{f: f, c: c, h: http.Header{}, fwd: fwd}
	t0 := time.Now()
	perr := c.callOrigin(fw, out)
	if perr == nil && fw.refetch && f.ctx.Err() == nil {
		// The stored response cannot be freshened and may not be served
		// stale: fetch the representation again without validators.
		f.mu.Lock()
		f.stale = nil
		f.mu.Unlock()
		out = out.Clone(ctx)
		out.Header.Del("If-None-Match")
		out.Header.Del("If-Modified-Since")
		fw = &fillWriter{f: f, c: c, h: http.Header{}, fwd: fwd}
		perr = c.callOrigin(fw, out)
	}
	c.meters.originDone(ctx, time.Since(t0))
	if fw.code != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", fw.code))
	}
	aborted := perr == errOriginAborted
	if perr != nil {
		span.SetStatus(codes.Error, perr.Error())
	}
	// The span ends before the readers learn the outcome: a client whose
	// response is complete finds the fetch's span ended.
	span.End()
	spanEnded = true
	now := c.o.Now()

	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.broadcast()
	switch {
	case aborted && f.ctx.Err() != nil:
		// The edge stopped this fetch (nobody reads it, the origin fell
		// silent, or the cache closed) and the origin, a reverse proxy
		// most often, aborted as it should.
		c.o.Logger.Debug("edge: origin fetch stopped", "key", redact(f.prim))
	case aborted:
		c.o.Logger.Warn("edge: origin aborted its response", "key", redact(f.prim))
	case perr != nil:
		c.o.Logger.Error("edge: origin handler panicked", "err", perr, "key", redact(f.prim))
	}
	if perr != nil {
		if !f.ready {
			f.publishError(http.StatusBadGateway)
		} else {
			f.failed = true
		}
		f.done = true
		return
	}
	if (fw.code == 0 || fw.late) && f.ctx.Err() != nil {
		// The origin gave up (or never started) when the fetch timed out or the cache closed.
		if c.staleIfError(f.stale, &f.rq, now) {
			c.stats.stale.Add(1)
			f.publishObject(f.stale, now, "fwd=stale; detail=origin-timeout")
			f.header = withoutFields(f.header, f.stale.cc.noCacheFields) // not validated
		} else {
			f.publishError(http.StatusGatewayTimeout)
		}
		f.done = true
		return
	}
	if !f.ready && fw.code == 0 {
		fw.writeHeaderLocked(http.StatusOK) // the origin wrote nothing
	}
	switch f.kind {
	case kindValidated:
		o := c.freshen(f.stale, fw.h, f.start, now)
		c.stats.revalidated.Add(1)
		// Store before publishing: a reader woken by an earlier change
		// may see the result at once, and its next request must hit.
		if o != nil {
			f.mu.Unlock()
			c.put(o, nil, f)
			f.mu.Lock()
		}
		f.publishObject(o, now, "fwd=stale; fwd-status=304; stored")
	case kindStaleErr:
		c.stats.stale.Add(1)
		f.publishObject(f.stale, now, "fwd=stale; fwd-status="+strconv.Itoa(fw.code)+"; detail=origin-error")
		f.header = withoutFields(f.header, f.stale.cc.noCacheFields) // not validated
	default:
		// Store before the readers learn the body is complete, so a
		// request after theirs finds the stored response.
		// A body cut short (shorter than its Content-Length, or the fetch
		// timed out, was closed or had its writes refused before the
		// handler returned) is neither stored nor sent as complete.
		if fw.broken || f.ctx.Err() != nil || !fw.complete() {
			f.failed = true
			f.done = true
			return
		}
		if fw.pass {
			f.mu.Unlock()
			c.markPass(f)
			f.mu.Lock()
		}
		o := f.obj
		if f.storing && o != nil {
			o.body = f.buf
			o.size += int64(len(f.buf))
			f.mu.Unlock()
			c.put(o, fw.marker, f)
			c.leave(f)
			f.mu.Lock()
		}
		f.done = true
	}
}

// leave stops new requests from joining f.
func (c *Cache) leave(f *fill) {
	c.mu.Lock()
	if c.inflight[f.fkey] == f {
		delete(c.inflight, f.fkey)
	}
	c.mu.Unlock()
}

// redact keeps the query (which may carry tokens) out of logs.
func redact(key string) string {
	if i := strings.IndexByte(key, '?'); i >= 0 {
		return key[:i] + "?…"
	}
	return key
}

// callOrigin runs the origin handler, recovering a panic.
func (c *Cache) callOrigin(w http.ResponseWriter, r *http.Request) (perr error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				perr = errOriginAborted // the origin cut its response on purpose
				return
			}
			perr = fmt.Errorf("%w: %v", ErrPanic, p)
		}
	}()
	c.origin.ServeHTTP(w, r)
	return nil
}

// publishError publishes a synthesized error to every reader. f.mu held.
func (f *fill) publishError(code int) {
	f.ready, f.status, f.shared, f.cs, f.storing, f.obj = true, code, true, "", false, nil
	f.header = http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	f.buf = []byte(strconv.Itoa(code) + " " + http.StatusText(code) + "\n")
}

// publishObject publishes a stored response to every reader. f.mu held.
func (f *fill) publishObject(o *object, now time.Time, cs string) {
	if o == nil {
		o = f.stale
	}
	age := o.age(now)
	f.ready, f.status, f.shared, f.header, f.lheader, f.vary = true, o.status, true, o.header, nil, o.vary
	f.cs = cs + "; ttl=" + strconv.FormatInt(int64(o.lifetime/time.Second)-int64(age/time.Second), 10)
	f.age = age
	f.buf, f.base, f.done = o.body, 0, true
}

// otherStrongValidator reports whether a 304's header fields name a strong
// entity tag the stored response does not carry (RFC 9111 §4.3.4).
func otherStrongValidator(stored, h http.Header) bool {
	t := strings.TrimSpace(h.Get("Etag"))
	if t == "" || strings.HasPrefix(t, "W/") {
		return false
	}
	return strings.TrimSpace(stored.Get("Etag")) != t
}

// freshen builds the stored response updated by a 304's header fields
// (RFC 9111 §3.2, §4.3.4).
func (c *Cache) freshen(old *object, h http.Header, reqTime, now time.Time) *object {
	nh := old.header.Clone()
	stripHopByHop(h)
	for k, v := range h {
		switch k {
		case "Content-Length", "Content-Encoding", "Content-Type", "Content-Range":
			continue // describe the stored content, not the 304
		}
		nh[k] = v
	}
	o := c.build(old.status, nh, reqTime, now, old.prim)
	if o == nil || o.obj == nil {
		return nil
	}
	n := o.obj
	n.key, n.vary = old.key, old.vary
	if len(n.surrogate) == 0 {
		n.surrogate = old.surrogate // a 304 rarely repeats the tags
	}
	n.body = old.body
	n.size += int64(len(old.body))
	if n.size > c.o.MaxObjectSize {
		return nil // the 304's fields made it too large to keep
	}
	return n
}

// fillWriter is the ResponseWriter the origin writes a fill into.
type fillWriter struct {
	f       *fill
	c       *Cache
	h       http.Header
	fwd     string
	code    int
	wrote   int64
	clen    int64 // Content-Length announced, -1 if none
	marker  *object
	discard bool
	broken  bool // a Write was refused: the body is incomplete
	pass    bool // the response is not shareable for a reason of the URL's: mark it hit-for-miss
	refetch bool // a 304 named another strong validator: fetch again, unconditionally
	late    bool // a 5xx written after the edge gave up on the fetch: the timeout's outcome

	stallPos   int64     // the slowest reader's position when the window filled
	stallSince time.Time // since when (zero: not stalled)
}

func (w *fillWriter) Header() http.Header { return w.h }

func (w *fillWriter) WriteHeader(code int) {
	if code < 200 || w.code != 0 {
		return // 1xx interim responses are not forwarded; a second call is ignored
	}
	w.f.mu.Lock()
	w.writeHeaderLocked(code)
	w.f.broadcast()
	w.f.mu.Unlock()
	w.f.idle.Reset(w.c.o.OriginTimeout)
}

func (w *fillWriter) Flush() {}

// writeHeaderLocked decides what the response is to the cache. f.mu held.
func (w *fillWriter) writeHeaderLocked(code int) {
	if w.code != 0 {
		return
	}
	w.code = code
	f, c := w.f, w.c
	if code >= 500 && f.ctx.Err() != nil {
		// The edge had already given up on the fetch (OriginTimeout, or
		// the cache closing) when this came: a reverse proxy as origin
		// answers its request's cancellation with 502. That is the
		// timeout's outcome, not the origin's, whichever the edge sees first.
		w.late, w.discard = true, true
		return
	}
	now := c.o.Now()
	w.clen = -1
	if cl := w.h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.clen = n
		}
	}
	if f.stale != nil && code == http.StatusNotModified {
		if otherStrongValidator(f.stale.header, w.h) {
			// RFC 9111 §4.3.4: "If none of the stored responses contain the
			// same strong validator, then the cache MUST NOT use the new
			// response to update any stored responses."
			w.refetch, w.discard = true, true
			return
		}
		f.kind, w.discard = kindValidated, true
		return
	}
	if f.stale != nil && (code == 500 || code == 502 || code == 503 || code == 504) && c.staleIfError(f.stale, &f.rq, now) {
		f.kind, w.discard = kindStaleErr, true
		return
	}
	b := c.buildFor(code, w.h, f, now)
	f.ready, f.status = true, code
	f.header, f.lheader = b.downstream, b.leader
	f.vary = b.vary
	f.shared = b.obj != nil
	f.storing = b.obj != nil && !f.purged && max(w.clen, 0) <= c.o.MaxObjectSize-b.obj.size
	f.obj = b.obj
	if !f.storing {
		f.obj = nil
	}
	w.marker = b.marker
	w.pass = b.pass && f.stale == nil
	f.cs = w.fwd + "; fwd-status=" + strconv.Itoa(code)
	if f.storing {
		f.cs += "; stored"
	}
}

func (w *fillWriter) Write(p []byte) (int, error) {
	f := w.f
	// Time in Write (waiting for readers) is not the origin's silence.
	f.idle.Stop()
	defer f.idle.Reset(w.c.o.OriginTimeout)
	if err := f.ctx.Err(); err != nil {
		f.mu.Lock()
		w.broken = true
		f.mu.Unlock()
		return 0, err
	}
	f.mu.Lock()
	if w.code == 0 {
		w.writeHeaderLocked(http.StatusOK)
	}
	if w.discard {
		f.mu.Unlock()
		return len(p), nil
	}
	for {
		if f.storing && w.wrote+int64(len(p)) > w.c.o.MaxObjectSize-sizeOf(f.obj) {
			f.storing, f.obj = false, nil
		}
		if f.storing {
			break
		}
		// Not storing: keep only what some reader still needs.
		if len(f.readers) == 0 {
			w.broken = true
			f.mu.Unlock()
			return 0, context.Canceled
		}
		minPos := int64(-1)
		for r := range f.readers {
			if minPos < 0 || *r < minPos {
				minPos = *r
			}
		}
		if drop := minPos - f.base; drop > 0 {
			nb := make([]byte, int64(len(f.buf))-drop, max(int64(len(f.buf))-drop, window))
			copy(nb, f.buf[drop:])
			f.buf, f.base = nb, minPos
		}
		if len(f.buf) < window {
			break
		}
		// The window is full. If a reader has sent all of it and waits
		// for more while the slowest, a whole window behind, has not
		// moved a quarter window in stallCut, cut the slowest (its
		// response ends early): one client that stops reading must not
		// stall every other client of the fill until OriginTimeout.
		var stall *time.Timer
		quiet := false // no reader caught up: bound the wait for any to move
		if f.caughtUp() {
			now := time.Now()
			if w.stallSince.IsZero() || minPos >= w.stallPos+window/4 {
				w.stallPos, w.stallSince = minPos, now
			}
			if wait := stallCut - now.Sub(w.stallSince); wait > 0 {
				stall = time.NewTimer(wait)
			} else {
				for r := range f.readers {
					if *r == minPos {
						delete(f.readers, r)
						*r = cutPos
					}
				}
				w.stallSince = time.Time{}
				continue
			}
		} else {
			stall, quiet = time.NewTimer(w.c.o.OriginTimeout), true
		}
		ch := f.changed
		f.mu.Unlock()
		var timeout <-chan time.Time
		if stall != nil {
			timeout = stall.C
		}
		select {
		case <-ch:
		case <-timeout:
			if quiet {
				// No reader has moved for OriginTimeout: give the fetch
				// up rather than hold the origin for clients that never read.
				f.mu.Lock()
				w.broken = true
				f.mu.Unlock()
				f.cancel()
				return 0, context.DeadlineExceeded
			}
		case <-f.ctx.Done():
			f.mu.Lock()
			w.broken = true
			f.mu.Unlock()
			return 0, f.ctx.Err()
		}
		if stall != nil {
			stall.Stop()
		}
		f.mu.Lock()
	}
	f.buf = append(f.buf, p...)
	w.wrote += int64(len(p))
	f.broadcast()
	f.mu.Unlock()
	return len(p), nil
}

// caughtUp reports whether some reader has sent everything buffered. f.mu held.
func (f *fill) caughtUp() bool {
	end := f.base + int64(len(f.buf))
	for r := range f.readers {
		if *r == end {
			return true
		}
	}
	return false
}

func sizeOf(o *object) int64 {
	if o == nil {
		return 0
	}
	return o.size
}

// complete reports whether the body matched its announced length.
func (w *fillWriter) complete() bool { return w.clen < 0 || w.clen == w.wrote }

// hitForMiss is how long a URL whose response was not shareable (private,
// no-store, Set-Cookie, Vary: *) is fetched without collapsing: each miss
// goes to the origin at once instead of waiting for another client's
// response only to be released (Varnish's hit-for-miss, 120 s in its
// built-in VCL). A shareable response ends it at once (it is stored).
const hitForMiss = 2 * time.Minute

// maxPasses and maxPassBytes (key bytes + 64 each) bound the hit-for-miss
// keys remembered, least recently used first out. They live apart from
// the stored objects (outside MaxBytes), so a client requesting many
// distinct uncacheable URLs evicts none of those.
const (
	maxPasses    = 1 << 16
	maxPassBytes = 4 << 20
)

// markPass records f's key as hit-for-miss.
func (c *Cache) markPass(f *fill) {
	f.mu.Lock()
	purged := f.purged
	f.mu.Unlock()
	if purged {
		return
	}
	c.passes.Set(f.fkey, &cache.Entry[time.Time]{Value: c.o.Now().Add(hitForMiss), Cost: int64(len(f.fkey)) + 64})
}
