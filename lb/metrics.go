package lb

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/lb"

// Attribute keys of the lb metrics.
const (
	AttrBackend = attribute.Key("ladder.lb.backend")
	AttrZone    = attribute.Key("ladder.lb.zone")
)

type poolMetrics struct {
	duration  metric.Float64Histogram
	ejections metric.Int64Counter
	retries   metric.Int64Counter
	reg       metric.Registration
	// live is set once the provider is seen recording: an instrument
	// enabled at creation, or a collection calling back. Picks read it
	// instead of asking the provider, one atomic load rather than calls
	// through the global delegate.
	live atomic.Bool
	// mu serialises collections' widening of the endpoints' wrapping
	// started counts (Endpoint.reqSeen, reqTotal) with the folding of a
	// replaced snapshot's picker counts into them (snapshot.folded).
	mu sync.Mutex
	// retired are the replaced snapshots picks may still reach, replaced
	// the endpoints replaced (same name) that they may still count on
	// (see Pool.foldPicks); guarded by mu.
	retired  map[*retired]struct{}
	replaced map[*replacedEndpoint]struct{}
}

// endpointMetrics holds one backend's precomputed attribute options.
type endpointMetrics struct {
	add   []metric.AddOption
	rec   []metric.RecordOption
	attrs attribute.Set
}

// newPoolMetrics creates the instruments; members walks the current members
// for the observed ones, with the picks a counting picker counted for each
// (called with pm.mu held).
func newPoolMetrics(mp metric.MeterProvider, members func(func(e *Endpoint, picked uint64))) (*poolMetrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	pm := &poolMetrics{retired: map[*retired]struct{}{}, replaced: map[*replacedEndpoint]struct{}{}}
	var err error
	must := func(e error) {
		if err == nil && e != nil {
			err = fmt.Errorf("lb: metrics: %w", e)
		}
	}
	// Requests, errors and in flight are counted by atomics on the endpoint
	// (requests and in flight in one word a policy weighing load updates
	// anyway) and observed at collection. Latency is recorded by Proxy and
	// Transport, whose requests cost microseconds, not by done: a histogram
	// record costs more than a whole pick (docs/CONVENTIONS.md, Telemetry).
	reqs, err := m.Int64ObservableCounter("ladder.lb.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Requests started per backend."))
	errs, e := m.Int64ObservableCounter("ladder.lb.errors", metric.WithUnit("{request}"),
		metric.WithDescription("Requests that failed per backend (errors and 5xx)."))
	must(e)
	pm.duration, e = m.Float64Histogram("ladder.lb.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Time to response headers of each try through Proxy or Transport, per backend."))
	must(e)
	pm.ejections, e = m.Int64Counter("ladder.lb.backend.ejections", metric.WithUnit("{ejection}"),
		metric.WithDescription("Outlier ejections per backend."))
	must(e)
	pm.retries, e = m.Int64Counter("ladder.lb.retries", metric.WithUnit("{request}"),
		metric.WithDescription("Retried attempts per backend that failed first."))
	must(e)
	g, e := m.Int64ObservableGauge("ladder.lb.inflight", metric.WithUnit("{request}"),
		metric.WithDescription("Requests in flight per backend."))
	must(e)
	if err != nil {
		return nil, err
	}
	pm.live.Store(pm.duration.Enabled(bg) || pm.retries.Enabled(bg))
	pm.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		if !pm.live.Load() {
			pm.live.Store(true) // a reader collects: count from now on
		}
		pm.mu.Lock()
		defer pm.mu.Unlock()
		members(func(ep *Endpoint, picked uint64) {
			set := metric.WithAttributeSet(ep.met.attrs)
			o.ObserveInt64(g, ep.InFlight(), set)
			o.ObserveInt64(reqs, int64(pm.startedLocked(ep)+picked), set)
			o.ObserveInt64(errs, ep.errors.Load(), set)
		})
		return nil
	}, g, reqs, errs)
	if err != nil {
		return nil, fmt.Errorf("lb: metrics: %w", err)
	}
	return pm, nil
}

func (pm *poolMetrics) close() {
	if pm.reg != nil {
		_ = pm.reg.Unregister()
	}
}

func (pm *poolMetrics) endpoint(name, zone string) *endpointMetrics {
	kv := []attribute.KeyValue{AttrBackend.String(name)}
	if zone != "" {
		kv = append(kv, AttrZone.String(zone))
	}
	set := attribute.NewSet(kv...)
	return &endpointMetrics{
		add:   []metric.AddOption{metric.WithAttributeSet(set)},
		rec:   []metric.RecordOption{metric.WithAttributeSet(set)},
		attrs: set,
	}
}

var bg = context.Background()

// replace makes succ the successor of prev (same name), whose series it
// continues: what prev counts from now on (picks on retired snapshots) is
// added to succ's series at collections.
func (pm *poolMetrics) replace(prev, succ *Endpoint) {
	pm.mu.Lock()
	defer pm.mu.Unlock()
	c := pm.startedLocked(prev) - prev.unpicked.Load()
	succ.reqBase = c
	prev.succ = succ
	pm.replaced[&replacedEndpoint{e: prev, seen: c}] = struct{}{}
}

// startedLocked returns the requests e's flow word and cells counted started,
// widening their wrapping count (collections come far more often than it
// wraps: 1<<40 requests), plus what replaced snapshots' pickers counted;
// callers add the live pickers' counts and subtract unpicked.

func (pm *poolMetrics) startedLocked(e *Endpoint) uint64 {
	c := e.counts().started
	// A sum of cells read one by one may run a few ahead of the truth
	// (a done seen, its pick not): a step back is skipped, never wrapped.
	if d := (c - e.reqSeen) & flowStarted; d < flowStarted/2 {
		e.reqTotal += d
		e.reqSeen = c
	}
	return e.reqBase + e.reqTotal
}

// latency records one try's latency; Proxy and Transport call it, not done.
func (em *endpointMetrics) latency(pm *poolMetrics, o Outcome) {
	if o.Latency > 0 && pm.duration.Enabled(bg) {
		pm.duration.Record(bg, o.Latency.Seconds(), em.rec...)
	}
}

// on reports whether the provider records telemetry; only then do picks
// keep the per-backend counters and the in-flight gauge (and Proxy the
// latency histogram). With telemetry off it is the only cost telemetry adds to a pick.
func (pm *poolMetrics) on() bool { return pm.live.Load() }

func (em *endpointMetrics) ejected(pm *poolMetrics) { pm.ejections.Add(bg, 1, em.add...) }

func (em *endpointMetrics) retried(pm *poolMetrics) { pm.retries.Add(bg, 1, em.add...) }

// observeMembers visits the current members for the observed instruments,
// with what a live counting picker counted for each, less the picks thrown
// away (modulo 2^64); pm.mu is held. Collections run seconds apart: the
// two slices are garbage worth no pooling.
func (p *Pool[T]) observeMembers(visit func(*Endpoint, uint64)) {
	p.met.syncRetired()
	s := p.snap.Load()
	if s == nil {
		return
	}
	// Thrown-away picks are read before the picks: each was counted by a
	// picker before it was thrown away, so the difference never runs ahead.
	n := make([]uint64, len(s.all))
	for i, e := range s.all {
		n[i] = -e.unpicked.Load()
	}
	if s.counted && !s.folded {
		s.selfPicks(n)
	}
	for i, e := range s.all {
		visit(e, n[i]) // modular: the sum with the rest is the true count
	}
}

// foldPicks retires the current snapshot before it is replaced: the picks
// its pickers counted go to its endpoints' totals, and so will the picks
// still made on it (by callers that loaded it before it was replaced), at
// every collection until the snapshot is garbage (no pick can reach it any
// more: picks use their snapshot after choosing). pm.mu is held.
func (p *Pool[T]) foldPicks() {
	s := p.snap.Load()
	if s == nil || s.folded {
		return
	}
	r := &retired{pm: p.met, all: s.all}
	if s.counted {
		r.tiers, r.seen = s.tiers, make([]uint64, len(s.all))
	}
	for _, e := range s.all {
		e.retiredRefs++
	}
	r.sync()
	p.met.retired[r] = struct{}{}
	runtime.AddCleanup(s, (*retired).release, r)
	s.folded = true
}

// retired is a replaced snapshot still reachable by picks: its counting
// pickers' counts (tiers, nil when none count) and its endpoints.
type retired struct {
	pm    *poolMetrics
	all   []*Endpoint
	tiers []tier
	seen  []uint64 // by position: picks already added to all[i].reqTotal
}

// sync adds the picks counted since the last sync; pm.mu is held.
func (r *retired) sync() {
	if r.tiers == nil {
		return
	}
	now := make([]uint64, len(r.all))
	for _, t := range r.tiers {
		tmp := make([]uint64, len(t.pos))
		t.picker.(pickCounter).picks(tmp)
		for k, i := range t.pos {
			now[i] += tmp[k]
		}
	}
	for i, e := range r.all {
		e.reqTotal += now[i] - r.seen[i]
		r.seen[i] = now[i]
	}
}

// release runs once the snapshot is garbage: its counts are final.
func (r *retired) release() {
	pm := r.pm
	pm.mu.Lock()
	defer pm.mu.Unlock()
	r.sync()
	delete(pm.retired, r)
	for _, e := range r.all {
		e.retiredRefs--
	}
	pm.syncReplaced()
}

// replacedEndpoint is an endpoint replaced by one of the same name (its
// weight or zone changed) while retired snapshots may still start requests
// on it: what it counts after that goes to its successor's series.
type replacedEndpoint struct {
	e    *Endpoint
	seen uint64 // its count already in the successor's series
}

// syncRetired brings the retired snapshots' and replaced endpoints' late
// picks into the live series; pm.mu is held.
func (pm *poolMetrics) syncRetired() {
	for r := range pm.retired {
		r.sync()
	}
	pm.syncReplaced()
}

// syncReplaced routes what replaced endpoints counted since the last sync
// to their live successors, and forgets those no retired snapshot holds any
// more (their counts are final); pm.mu is held.
func (pm *poolMetrics) syncReplaced() {
	for x := range pm.replaced {
		c := pm.startedLocked(x.e) - x.e.unpicked.Load()
		live := x.e
		for live.succ != nil {
			live = live.succ
		}
		live.reqTotal += c - x.seen
		x.seen = c
		if x.e.retiredRefs == 0 {
			delete(pm.replaced, x)
		}
	}
}
