package edge

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/internal/stripe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Cache is an RFC 9111 shared cache in front of an origin handler. It is
// safe for concurrent use. Build one with [New]; Close stops background
// revalidations and waits for in-flight fills.
type Cache struct {
	origin http.Handler
	o      Options
	store  *cache.Sharded[string, *object]
	passes *cache.Sharded[string, time.Time] // hit-for-miss keys → until; bounded apart from the objects

	mu                     sync.Mutex
	inflight               map[string]*fill               // primary key → the fill every miss for it joins
	refresh                map[string]*fill               // keys with a background revalidation running
	byPrim                 map[string]map[string]struct{} // primary key → storage keys of its variants
	bySurr                 map[string]map[string]struct{} // surrogate key → storage keys
	closed                 bool
	live                   map[string]live // storage key → cost, for Stats and the sweep
	liveBytes, liveObjects int64
	evictedSince           int

	done   chan struct{}
	base   context.Context // cancelled by Close: ends fills and revalidations
	stop   context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
	stats  counters
	meters *meters
	tracer trace.Tracer
}

// New returns a shared cache in front of origin (any handler: an lb.Proxy,
// an httputil.ReverseProxy, or the application's own mux).
func New(origin http.Handler, opts Options) (*Cache, error) {
	if origin == nil {
		return nil, invalid("origin: nil handler")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	if o.MaxObjectSize > o.MaxBytes {
		o.MaxObjectSize = o.MaxBytes
	}
	// Each shard must hold the largest object.
	shards := 16
	for shards > 1 && o.MaxBytes/int64(shards) < o.MaxObjectSize+64<<10 {
		shards >>= 1
	}
	st, err := cache.NewShardedLRU[string, *object](shards, int(min(o.MaxBytes/64+1, 1<<30)), cache.StoreOptions{MaxCost: o.MaxBytes})
	if err != nil {
		return nil, invalid("MaxBytes %d: %v", opts.MaxBytes, err)
	}
	passes, err := cache.NewShardedLRU[string, time.Time](16, maxPasses, cache.StoreOptions{MaxCost: maxPassBytes})
	if err != nil {
		return nil, invalid("hit-for-miss store: %v", err)
	}
	c := &Cache{
		origin: origin, o: o, store: st, passes: passes,
		inflight: map[string]*fill{}, refresh: map[string]*fill{},
		byPrim: map[string]map[string]struct{}{}, bySurr: map[string]map[string]struct{}{},
		live: map[string]live{},
		done: make(chan struct{}),
	}
	c.base, c.stop = context.WithCancel(context.Background())
	tp := o.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	c.tracer = tp.Tracer(scope)
	c.meters, err = newMeters(c, o.MeterProvider)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Close stops background revalidations and waits for every fill and
// revalidation goroutine to end. It is idempotent.
func (c *Cache) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
		c.stop()
		c.wg.Wait()
		c.meters.close()
	})
	c.wg.Wait()
	return nil
}

// defaultKey is scheme://host/path?query, host lowercased, default port dropped.
func defaultKey(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = r.URL.Host
	}
	if h, p, ok := strings.Cut(host, ":"); ok && !strings.Contains(p, ":") &&
		(p == "" || scheme == "http" && p == "80" || scheme == "https" && p == "443") {
		host = h
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	n := len(scheme) + 3 + len(host) + len(path)
	if r.URL.RawQuery != "" {
		n += 1 + len(r.URL.RawQuery)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(scheme)
	b.WriteString("://")
	for i := 0; i < len(host); i++ {
		ch := host[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		b.WriteByte(ch)
	}
	b.WriteString(path)
	if r.URL.RawQuery != "" {
		b.WriteByte('?')
		b.WriteString(r.URL.RawQuery)
	}
	return b.String()
}

func (c *Cache) key(r *http.Request) (k string) {
	if c.o.Key == nil {
		return defaultKey(r)
	}
	defer func() {
		if p := recover(); p != nil {
			c.o.Logger.Error("edge: Key function panicked; using the default key", "panic", p)
			k = defaultKey(r)
		}
	}()
	return c.o.Key(r)
}

// lookup finds the stored response for r: the object (nil on a miss),
// whether the miss is a vary-miss (the URI is known), and the key misses
// for it collapse on: the variant's storage key when the URI is known to
// vary, so concurrent misses for different variants fetch each their own.
func (c *Cache) lookup(prim string, h http.Header) (*object, bool, string) {
	e, ok := c.store.Get(prim)
	if !ok {
		return nil, false, prim
	}
	o := e.Value
	if !o.marker {
		return o, false, prim
	}
	if o.vary.star {
		return nil, true, prim
	}
	var buf [128]byte
	sk := string(secondaryKey(append(buf[:0], prim...), &o.vary, h))
	e, ok = c.store.Get(sk)
	if !ok || e.Value.marker {
		return nil, true, sk
	}
	return e.Value, false, sk
}

// reqDirectives are the request's Cache-Control, or Pragma: no-cache when
// Cache-Control is absent (RFC 9111 §5.4).
func reqDirectives(r *http.Request) directives {
	lines, ok := r.Header["Cache-Control"]
	if !ok {
		d := directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent, maxStale: absent, minFresh: absent}
		for _, p := range r.Header["Pragma"] {
			for f := range strings.SplitSeq(p, ",") {
				if strings.EqualFold(strings.TrimSpace(f), "no-cache") {
					d.flags |= ccNoCache
				}
			}
		}
		return d
	}
	d := parseCacheControl(lines)
	if d.maxAge == malformed {
		d.maxAge = 0
	}
	return d
}

// safe reports whether the method is safe (RFC 9110 §9.2.1).
func safe(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// ServeHTTP answers r from the cache or the origin.
func (c *Cache) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.serve(w, r, true) }

// serve answers r; retry lets a miss look up storage once more when a
// fill for it completed meanwhile.
func (c *Cache) serve(w http.ResponseWriter, r *http.Request, retry bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		c.stats.bypass.Add(1)
		c.pass(w, r, "fwd=method", !safe(r.Method))
		return
	}
	if _, up := r.Header["Upgrade"]; up {
		c.stats.bypass.Add(1)
		c.pass(w, r, "fwd=bypass", false)
		return
	}
	if _, ok := r.Header["If-Match"]; ok {
		c.stats.bypass.Add(1)
		c.pass(w, r, "fwd=request", false) // §4.3.2: preconditions for the origin
		return
	}
	if _, ok := r.Header["If-Unmodified-Since"]; ok {
		c.stats.bypass.Add(1)
		c.pass(w, r, "fwd=request", false)
		return
	}
	now := c.o.Now()
	prim := c.key(r)
	var rq directives
	if _, ok := r.Header["Cache-Control"]; ok {
		rq = reqDirectives(r)
	} else if _, ok := r.Header["Pragma"]; ok {
		rq = reqDirectives(r)
	} else {
		rq = directives{maxAge: absent, sMaxAge: absent, swr: absent, sie: absent, maxStale: absent, minFresh: absent}
	}
	o, varyMiss, fkey := c.lookup(prim, r.Header)
	if o != nil {
		age := o.age(now)
		switch c.usable(o, &rq, age) {
		case useFresh:
			c.stats.hits.Add(1)
			c.serveStored(w, r, o, age, now, "hit", "")
			return
		case useStaleRevalidate:
			c.stats.stale.Add(1)
			c.backgroundRevalidate(r, prim, fkey, o)
			c.serveStored(w, r, o, age, now, "hit", "detail=stale-while-revalidate")
			return
		}
		if rq.has(ccOnlyIfCached) {
			c.gatewayTimeout(w)
			return
		}
		fwd := "fwd=stale"
		if rq.has(ccNoCache) || rq.maxAge != absent || rq.minFresh != absent {
			fwd = "fwd=request"
		}
		c.fetch(w, r, prim, fkey, o, &rq, fwd, retry, false)
		return
	}
	if rq.has(ccOnlyIfCached) {
		c.gatewayTimeout(w)
		return
	}
	fwd := "fwd=uri-miss"
	if varyMiss {
		fwd = "fwd=vary-miss"
	}
	alone := false
	if e, ok := c.passes.Get(fkey); ok {
		alone = now.Before(e.Value)
	}
	if rq.has(ccNoStore) || r.Method == http.MethodHead {
		// A request that forbids storing, and a HEAD miss, go to the origin as they are.
		c.stats.misses.Add(1)
		c.pass(w, r, fwd, false)
		return
	}
	c.fetch(w, r, prim, fkey, nil, &rq, fwd, retry, alone)
}

type use int

const (
	useNo use = iota
	useFresh
	useStaleRevalidate
)

// usable decides whether o answers a request with directives rq at current
// age (RFC 9111 §4, §4.2.4, RFC 5861, RFC 8246).
func (c *Cache) usable(o *object, rq *directives, age time.Duration) use {
	if o.cc.has(ccNoCache) {
		return useNo // §5.2.2.4: always validate
	}
	fresh := age < o.lifetime
	if rq.has(ccNoCache) {
		return useNo // §5.2.1.4; a force reload overrides immutable (RFC 8246 §2.1)
	}
	if rq.maxAge != absent && age > deltaDur(rq.maxAge) {
		// A reload (max-age=0) of a fresh immutable response is what
		// RFC 8246 exists to avoid: serve it.
		if !(fresh && o.cc.has(ccImmutable)) {
			return useNo
		}
	}
	if rq.minFresh != absent && o.lifetime-age < deltaDur(rq.minFresh) {
		return useNo
	}
	if fresh {
		return useFresh
	}
	if o.staleForbidden() {
		return useNo
	}
	stale := age - o.lifetime
	if o.cc.sMaxAge == absent && (rq.has(ccMaxStaleAny) || rq.maxStale >= 0 && stale <= deltaDur(rq.maxStale)) {
		return useFresh // the client accepts this much staleness (§5.2.1.2)
	}
	if o.cc.swr >= 0 && stale <= deltaDur(o.cc.swr) {
		return useStaleRevalidate
	}
	return useNo
}

// staleIfError reports whether o may be served after an origin error.
func (c *Cache) staleIfError(o *object, rq *directives, now time.Time) bool {
	if o == nil || o.staleForbidden() {
		return false
	}
	stale := o.age(now) - o.lifetime
	if rq != nil && rq.sie >= 0 && stale <= deltaDur(rq.sie) {
		return true
	}
	if o.cc.sie >= 0 {
		return stale <= deltaDur(o.cc.sie)
	}
	return o.cc.sMaxAge == absent && c.o.StaleIfError > 0 && stale <= c.o.StaleIfError
}

// serveStored writes o (or a 304 for a matching conditional request).
func (c *Cache) serveStored(w http.ResponseWriter, r *http.Request, o *object, age time.Duration, now time.Time, status, extra string) {
	h := w.Header()
	var hv *hitValues
	if status == "hit" && extra == "" {
		hv = o.hitValues(c.o.Name, age)
	} else {
		hv = newHitValues(c.o.Name, status, extra, o, age)
	}
	if notModified(r, o) {
		for _, f := range [...]string{"Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Vary", "Last-Modified"} {
			if v, ok := o.header[f]; ok {
				h[f] = v[:len(v):len(v)]
			}
		}
		h["Age"], h["Cache-Status"] = hv.age[:], hv.cs[:]
		w.WriteHeader(http.StatusNotModified)
		return
	}
	for k, v := range o.header {
		h[k] = v[:len(v):len(v)]
	}
	for _, f := range o.cc.noCacheFields { // §5.2.2.4: not sent without revalidation
		delete(h, f)
	}
	h["Age"], h["Cache-Status"] = hv.age[:], hv.cs[:]
	w.WriteHeader(o.status)
	if r.Method != http.MethodHead {
		w.Write(o.body)
	}
}

// hitValues are the Age and Cache-Status values of a hit, the same for
// every hit on an object within one second of age: cached in the object so
// a hit formats nothing. Handlers share the one-element slices (capacity 1,
// so an append copies), as they share the stored header values.
type hitValues struct {
	sec int64
	age [1]string
	cs  [1]string
}

func newHitValues(name, status, extra string, o *object, age time.Duration) *hitValues {
	sec := int64(age / time.Second)
	ttl := int64(o.lifetime/time.Second) - sec // whole seconds, consistent with Age
	cs := name + "; " + status + "; ttl=" + strconv.FormatInt(ttl, 10)
	if extra != "" {
		cs += "; " + extra
	}
	cs = appendStatus(o.header["Cache-Status"], cs)
	return &hitValues{sec: sec, age: [1]string{strconv.FormatInt(sec, 10)}, cs: [1]string{cs}}
}

func (o *object) hitValues(name string, age time.Duration) *hitValues {
	sec := int64(age / time.Second)
	if hv := o.hit.Load(); hv != nil && hv.sec == sec {
		return hv
	}
	hv := newHitValues(name, "hit", "", o, age)
	o.hit.Store(hv)
	return hv
}

// appendStatus adds this cache's member after those of caches upstream,
// which RFC 9211 §2 says to preserve.
func appendStatus(upstream []string, ours string) string {
	if len(upstream) == 0 {
		return ours
	}
	return strings.Join(upstream, ", ") + ", " + ours
}

// notModified evaluates the client's If-None-Match, else If-Modified-Since,
// against o (RFC 9110 §13.2.2, RFC 9111 §4.3.2).
func notModified(r *http.Request, o *object) bool {
	return conditionMet(r, o.status, o.etag, o.lastMod)
}

// conditionMet reports whether a 200 with these validators answers the
// client's conditional request with 304.
func conditionMet(r *http.Request, status int, etag, lastMod string) bool {
	if status != http.StatusOK {
		return false
	}
	if inm, ok := r.Header["If-None-Match"]; ok {
		return etagMatchWeak(inm, etag)
	}
	ims, ok := r.Header["If-Modified-Since"]
	if !ok || lastMod == "" {
		return false
	}
	t, ok := parseDate(ims)
	if !ok {
		return false
	}
	lm, err := http.ParseTime(lastMod)
	return err == nil && !lm.After(t)
}

// gatewayTimeout answers 504 for only-if-cached. A response the cache
// generates itself carries no Cache-Status member (RFC 9211 §2).
func (c *Cache) gatewayTimeout(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusGatewayTimeout)
	w.Write([]byte("504 gateway timeout: not in cache\n"))
}

// Purge removes every variant stored for url (absolute, or a path, which
// is looked up under http and https with any host stored) and returns how
// many objects it removed.
func (c *Cache) Purge(rawURL string) int {
	keys := c.purgeKeys(rawURL)
	n := 0
	for _, k := range keys {
		n += c.purgePrimary(k)
	}
	if n > 0 {
		c.stats.purges.Add(1)
	}
	return n
}

func (c *Cache) purgeKeys(rawURL string) []string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	if u.Host != "" {
		r := &http.Request{URL: u, Host: u.Host}
		if u.Scheme == "https" {
			r.TLS = fakeTLS
		}
		return []string{c.key(r)}
	}
	// A path: every stored primary key with that path and query.
	suffix := u.EscapedPath()
	if u.RawQuery != "" {
		suffix += "?" + u.RawQuery
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for k := range c.byPrim {
		if i := strings.Index(k, "://"); i >= 0 {
			rest := k[i+3:]
			if j := strings.IndexByte(rest, '/'); j >= 0 && rest[j:] == suffix {
				out = append(out, k)
			}
		}
	}
	return out
}

// purgePrimary removes a primary key and its variants.
func (c *Cache) purgePrimary(prim string) int {
	c.mu.Lock()
	keys := c.byPrim[prim]
	delete(c.byPrim, prim)
	for _, f := range c.inflight {
		if f.prim == prim {
			f.noStore() // a fill running now must not store what was just purged
		}
	}
	c.mu.Unlock()
	n := 0
	for k := range keys {
		if c.remove(k) {
			n++
		}
	}
	if c.remove(prim) {
		n++
	}
	return n
}

// remove deletes a storage key, reporting whether it held a response (not a Vary marker).
func (c *Cache) remove(k string) bool {
	e, ok := c.store.Get(k)
	if !ok || !c.store.Delete(k) {
		return false
	}
	c.mu.Lock()
	c.forget(k)
	c.mu.Unlock()
	return !e.Value.marker
}

// forget drops k from the live accounting. c.mu held.
func (c *Cache) forget(k string) {
	if l, ok := c.live[k]; ok {
		delete(c.live, k)
		c.liveBytes -= l.cost
		if !l.marker {
			c.liveObjects--
		}
	}
}

// remember records k in the live accounting. c.mu held.
func (c *Cache) remember(k string, cost int64, marker bool) {
	c.forget(k)
	c.live[k] = live{cost, marker}
	c.liveBytes += cost
	if !marker {
		c.liveObjects++
	}
}

// live is what the cache knows about one storage key.
type live struct {
	cost   int64
	marker bool
}

// sweep drops from the indexes and the accounting every key the store has
// evicted (it evicts without telling). It runs when the indexes have grown
// well past the store's size, so its cost is amortised over the puts that
// grew them. c.mu held.
func (c *Cache) sweep() {
	for k := range c.live {
		if _, ok := c.store.Get(k); !ok {
			c.forget(k)
		}
	}
	for p, set := range c.byPrim {
		for k := range set {
			if _, ok := c.live[k]; !ok {
				delete(set, k)
			}
		}
		if _, ok := c.live[p]; !ok && len(set) == 0 {
			delete(c.byPrim, p)
		}
	}
	for s, set := range c.bySurr {
		for k := range set {
			if _, ok := c.live[k]; !ok {
				delete(set, k)
			}
		}
		if len(set) == 0 {
			delete(c.bySurr, s)
		}
	}
	c.evictedSince = 0
}

// PurgeKey removes every object tagged with the surrogate key and returns how many.
func (c *Cache) PurgeKey(key string) int {
	c.mu.Lock()
	keys := c.bySurr[key]
	delete(c.bySurr, key)
	for _, f := range c.inflight {
		// A fill running now stores nothing tagged with key: what it
		// fetched may predate the purge (put checks).
		f.mu.Lock()
		f.purgedKeys = append(f.purgedKeys, key)
		f.mu.Unlock()
	}
	c.mu.Unlock()
	n := 0
	for k := range keys {
		if c.remove(k) {
			n++
		}
	}
	if n > 0 {
		c.stats.purges.Add(1)
	}
	return n
}

// PurgeAll removes every stored object and returns how many.
func (c *Cache) PurgeAll() int {
	c.mu.Lock()
	prims := make([]string, 0, len(c.byPrim))
	for k := range c.byPrim {
		prims = append(prims, k)
	}
	for _, f := range c.inflight {
		f.noStore()
	}
	c.mu.Unlock()
	n := 0
	for _, p := range prims {
		n += c.purgePrimary(p)
	}
	c.mu.Lock()
	clear(c.bySurr)
	c.mu.Unlock()
	if n > 0 {
		c.stats.purges.Add(1)
	}
	return n
}

// invalidate removes what is stored for the target URI and the same-origin
// Location and Content-Location URIs after an unsafe method's non-error
// response (RFC 9111 §4.4).
func (c *Cache) invalidate(r *http.Request, h http.Header) {
	c.purgePrimary(c.key(r))
	for _, f := range [...]string{"Location", "Content-Location"} {
		v := h.Get(f)
		if v == "" {
			continue
		}
		u, err := r.URL.Parse(v)
		if err != nil {
			continue
		}
		if u.Host != "" && !strings.EqualFold(u.Host, r.Host) {
			continue // another origin: must not be invalidated on this request's say-so
		}
		r2 := &http.Request{URL: u, Host: r.Host, TLS: r.TLS}
		c.purgePrimary(c.key(r2))
	}
}

// put adds o (and the Vary marker of its primary key) to the store and
// the indexes, unless the fill that produced it was purged meanwhile (the
// check and the store happen under c.mu, which purges take first).
func (c *Cache) put(o *object, marker *object, f *fill) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if f != nil {
		f.mu.Lock()
		purged := f.purged
		for _, k := range o.surrogate {
			purged = purged || slices.Contains(f.purgedKeys, k)
		}
		f.mu.Unlock()
		if purged {
			return
		}
	}
	set := c.byPrim[o.prim]
	if set == nil {
		set = map[string]struct{}{}
		c.byPrim[o.prim] = set
	}
	if _, ok := set[o.key]; !ok && o.key != o.prim && len(set) >= c.o.MaxVariants {
		c.dropVariant(set)
	}
	set[o.key] = struct{}{}
	for _, s := range o.surrogate {
		m := c.bySurr[s]
		if m == nil {
			m = map[string]struct{}{}
			c.bySurr[s] = m
		}
		m[o.key] = struct{}{}
	}
	evicted := 0
	if marker != nil {
		if e, ok := c.store.Get(o.prim); !ok || !e.Value.marker || !sameVary(e.Value.vary, marker.vary) {
			cost := int64(len(o.prim)) + 64
			c.remember(o.prim, cost, true)
			evicted, _ = c.store.Set(o.prim, &cache.Entry[*object]{Value: marker, Cost: cost})
		}
	}
	c.remember(o.key, o.size, false)
	n, err := c.store.Set(o.key, &cache.Entry[*object]{Value: o, Cost: o.size})
	if err != nil {
		c.forget(o.key)
	}
	c.evictedSince += evicted + n
	if c.evictedSince > len(c.live)/2+64 {
		c.sweep()
	}
}

// dropVariant makes room for one more variant in set (the storage keys of
// one URL): it forgets keys the store has evicted and, if none was,
// removes one variant, any one (a flood of new variants replaces each
// other, not the rest of the cache). c.mu held.
func (c *Cache) dropVariant(set map[string]struct{}) {
	for k := range set {
		if _, ok := c.live[k]; !ok {
			delete(set, k)
		}
	}
	if len(set) < c.o.MaxVariants {
		return
	}
	for k := range set {
		c.store.Delete(k)
		c.forget(k)
		delete(set, k)
		return
	}
}

func sameVary(a, b varySpec) bool {
	if a.star != b.star || len(a.fields) != len(b.fields) {
		return false
	}
	for i := range a.fields {
		if a.fields[i] != b.fields[i] {
			return false
		}
	}
	return true
}

// counters are the Stats, counted with atomics (a hit must not call an
// OTel instrument, docs/CONVENTIONS.md "Telemetry").
type counters struct {
	hits, stale                                    stripe.Counter // on the hit path: striped
	misses, revalidated, bypass, collapsed, purges atomic.Int64
}

// Stats is a snapshot of the cache's counters.
type Stats struct {
	Hits, Misses, Stale, Revalidations, Bypassed, Collapsed, Purges int64
	// StoredBytes and StoredObjects count what is stored: exact after
	// stores, purges and the periodic sweep of evicted keys, scaled by the
	// store's entry count in between (the store evicts without telling).
	StoredBytes, StoredObjects int64
}

// Stats returns the current counters.
func (c *Cache) Stats() Stats {
	b, o := c.stored()
	return Stats{
		Hits: c.stats.hits.Load(), Misses: c.stats.misses.Load(), Stale: c.stats.stale.Load(),
		Revalidations: c.stats.revalidated.Load(), Bypassed: c.stats.bypass.Load(),
		Collapsed: c.stats.collapsed.Load(), Purges: c.stats.purges.Load(),
		StoredBytes: b, StoredObjects: o,
	}
}

// stored returns the stored bytes and objects.
func (c *Cache) stored() (bytes, objects int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	bytes, objects = c.liveBytes, c.liveObjects
	if n, l := int64(c.store.Len()), int64(len(c.live)); l > n && l > 0 {
		bytes, objects = bytes*n/l, objects*n/l
	}
	return min(bytes, c.o.MaxBytes), objects
}
