package shard

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/internal/stripe"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/shard"

// HotOptions configures a [Hot]. The zero value measures over the last
// minute, holds 256 key counters per stripe, records every call and
// suggests isolating a key that carries a fifth of its shard's load.
type HotOptions struct {
	// Window is how far back rates and top keys look. Both are kept in two
	// halves that age out in turn, so a reading covers between Window/2 and
	// Window of history (Stats says which). Zero: one minute. Negative: an
	// error.
	Window time.Duration
	// Capacity is the number of key counters per stripe (the bounded memory
	// of the top-K summary: about 48 bytes each, 2 generations × 8 stripes).
	// A key's count is overestimated by at most N/Capacity, N the keys
	// recorded in the window; every key above that share is found. Zero:
	// 256. Negative or above 65536 (3 MB a stripe, allocated up front): an
	// error.
	Capacity int
	// SampleEvery records the key of one call in SampleEvery (chosen at
	// random) to spare the hot path the key summary's lock; shard rates
	// still count every call. Key counts are scaled back up, so they carry
	// sampling noise of about √(count·SampleEvery). Zero or 1: every call.
	// Negative or above 2²⁰ (where scaled counts would be noise and, far
	// above, overflow): an error.
	SampleEvery int
	// Threshold is the share of its shard's load above which Suggest names
	// a key to isolate, in (0, 1]. Zero: 0.2.
	Threshold float64
	// Now reads the clock (nil: time.Now); Rand draws the samples (nil:
	// math/rand/v2).
	Now  func() time.Time
	Rand func() uint64
	// MeterProvider receives the observable gauges ladder.shard.request.rate
	// (per shard, attribute ladder.shard.shard) and ladder.shard.skew. Nil:
	// otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
}

func (o HotOptions) withDefaults() (HotOptions, error) {
	switch {
	case o.Window < 0:
		return o, invalid("HotOptions.Window %v: must be ≥ 0", o.Window)
	case o.Capacity < 0 || o.Capacity > maxHotCapacity:
		return o, invalid("HotOptions.Capacity %d: must be from 0 to %d", o.Capacity, maxHotCapacity)
	case o.SampleEvery < 0 || o.SampleEvery > maxSampleEvery:
		return o, invalid("HotOptions.SampleEvery %d: must be from 0 to %d", o.SampleEvery, maxSampleEvery)
	case o.Threshold < 0 || o.Threshold > 1 || o.Threshold != o.Threshold:
		return o, invalid("HotOptions.Threshold %v: must be in (0, 1]", o.Threshold)
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.Window < 2*time.Nanosecond {
		return o, invalid("HotOptions.Window %v: must be ≥ 2ns", o.Window)
	}
	if o.Capacity == 0 {
		o.Capacity = 256
	}
	if o.SampleEvery == 0 {
		o.SampleEvery = 1
	}
	if o.Threshold == 0 {
		o.Threshold = 0.2
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Uint64
	}
	return o, nil
}

const (
	maxHotCapacity = 1 << 16
	maxSampleEvery = 1 << 20
	hotStripeBits  = 3
	hotStripes     = 1 << hotStripeBits
)

// Hot measures the load on each shard and finds the hot keys: per-shard
// request rates and their skew (max/mean) over a sliding window, the top
// keys by a bounded-memory Space-Saving summary, and which key to move to a
// shard of its own ([Map.WithOverride]). Record is the hot path: one clock
// read, one striped atomic add and, for a sampled call, a short lock on the
// calling goroutine's stripe of the key summary; it allocates nothing once
// the summary is full. Safe for concurrent use; Close unregisters its
// metrics.
type Hot struct {
	opts  HotOptions
	names []string
	half  int64 // nanoseconds per generation (Window/2)

	gen   atomic.Int64 // the current generation number: now/half
	salt  atomic.Uint64
	_     [48]byte
	cells []paddedCount // stripe*n + shard: calls, cumulative

	rot      sync.Mutex // rotation: the fields below
	basePrev []int64    // per-shard totals when the previous generation began
	baseCur  []int64    // … when the current one began
	prevOK   bool       // the previous generation was observed (not skipped)

	keys [hotStripes]struct {
		mu        sync.Mutex
		cur, prev *spaceSaving
		_         [40]byte
	}
	reg metric.Registration
}

type paddedCount struct {
	n atomic.Int64
	_ [56]byte
}

// NewHot returns a Hot for the named shards (index = shard number, as
// [Map.Shards]).
func NewHot(shards []string, opts HotOptions) (*Hot, error) {
	if len(shards) == 0 {
		return nil, invalid("NewHot shards: none")
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	n := len(shards)
	h := &Hot{
		opts: o, names: slices.Clone(shards), half: int64(o.Window / 2),
		cells:    make([]paddedCount, hotStripes*n),
		basePrev: make([]int64, n), baseCur: make([]int64, n),
	}
	for i := range h.keys {
		h.keys[i].cur, h.keys[i].prev = newSpaceSaving(o.Capacity), newSpaceSaving(o.Capacity)
	}
	h.gen.Store(o.Now().UnixNano() / h.half)
	if err := h.initMetrics(); err != nil {
		return nil, err
	}
	return h, nil
}

// Record counts one request for key hash key (from KeyString, KeyBytes or
// KeyUint64) on shard number s. A shard number out of range is ignored.
func (h *Hot) Record(s int, key uint64) {
	n := len(h.names)
	if uint(s) >= uint(n) {
		return
	}
	if g := h.opts.Now().UnixNano() / h.half; g > h.gen.Load() {
		h.rotate(g) // a clock stepped back waits for the current half to end
	}
	salt := h.salt.Load()
	st := int(stripe.Of(salt, hotStripeBits))
	c := &h.cells[st*n+s].n
	if x := c.Load(); !c.CompareAndSwap(x, x+1) {
		h.salt.CompareAndSwap(salt, salt+1)
		c.Add(1)
	}
	if h.opts.SampleEvery > 1 && h.opts.Rand()%uint64(h.opts.SampleEvery) != 0 {
		return
	}
	k := &h.keys[st]
	k.mu.Lock()
	k.cur.add(key, s)
	k.mu.Unlock()
}

// totals sums the stripes: calls per shard since NewHot.
func (h *Hot) totals() []int64 {
	n := len(h.names)
	t := make([]int64, n)
	for i := range h.cells {
		t[i%n] += h.cells[i].n.Load()
	}
	return t
}

// rotate moves to generation g (later than the current one): the current
// half becomes the previous one and the oldest is dropped; a gap of more
// than one generation (no calls at all) drops both.
func (h *Hot) rotate(g int64) {
	h.rot.Lock()
	defer h.rot.Unlock()
	old := h.gen.Load()
	if g <= old {
		return
	}
	t := h.totals()
	if g == old+1 {
		h.basePrev, h.baseCur, h.prevOK = h.baseCur, t, true
	} else {
		h.basePrev, h.baseCur, h.prevOK = t, slices.Clone(t), false
	}
	for i := range h.keys {
		k := &h.keys[i]
		k.mu.Lock()
		k.prev, k.cur = k.cur, k.prev
		k.cur.reset()
		if g != old+1 {
			k.prev.reset()
		}
		k.mu.Unlock()
	}
	h.gen.Store(g)
}

// ShardStats is the load on each shard over the window.
type ShardStats struct {
	Shards []string      // names, index = shard number
	Counts []int64       // requests per shard in the window
	Rates  []float64     // requests per second per shard
	Span   time.Duration // the history the window covers now (Window/2 … Window)
	Skew   float64       // max/mean of Counts: 1 is perfect balance; 0 with no requests
	Max    int           // the busiest shard
}

// Stats returns per-shard counts, rates and skew over the window.
func (h *Hot) Stats() ShardStats {
	now := h.opts.Now().UnixNano()
	if g := now / h.half; g > h.gen.Load() {
		h.rotate(g)
	}
	h.rot.Lock()
	base, prevOK, g := h.basePrev, h.prevOK, h.gen.Load()
	if !prevOK {
		base = h.baseCur
	}
	t := h.totals()
	h.rot.Unlock()
	start := g * h.half
	if prevOK {
		start -= h.half
	}
	span := time.Duration(max(0, now-start))
	st := ShardStats{Shards: slices.Clone(h.names), Counts: t, Rates: make([]float64, len(t)), Span: span}
	var sum, maxc int64
	for i := range t {
		t[i] -= base[i]
		sum += t[i]
		if t[i] > maxc {
			maxc, st.Max = t[i], i
		}
		if span > 0 {
			st.Rates[i] = float64(t[i]) / span.Seconds()
		}
	}
	if sum > 0 {
		st.Skew = float64(maxc) / (float64(sum) / float64(len(t)))
	}
	return st
}

// HotKey is one key's estimated load over the window.
type HotKey struct {
	Key   uint64 // the key hash
	Shard int    // the shard it was last recorded on
	// Count estimates the key's requests in the window (scaled up by
	// SampleEvery). It overestimates by at most Err (plus sampling noise):
	// the true count lies in [Count-Err, Count].
	Count, Err int64
	// Share is Count over its shard's requests in the window.
	Share float64
}

// TopKeys returns the k keys with the highest estimated counts over the
// window, highest first. Every key whose true count exceeds
// N/Capacity (N: keys recorded in the window) is among the candidates;
// a key's rank may be off by its Err.
func (h *Hot) TopKeys(k int) []HotKey {
	if k <= 0 {
		return nil
	}
	st := h.Stats()
	type acc struct {
		count, err int64
		shard      int
	}
	all := map[uint64]*acc{}
	var sums []*spaceSaving
	for i := range h.keys {
		ks := &h.keys[i]
		ks.mu.Lock()
		for _, s := range []*spaceSaving{ks.cur, ks.prev} {
			if s.n == 0 {
				continue
			}
			sums = append(sums, &spaceSaving{idx: maps.Clone(s.idx), ents: slices.Clone(s.ents), cap: s.cap, n: s.n})
		}
		ks.mu.Unlock()
	}
	for _, s := range sums {
		for _, e := range s.ents {
			a := all[e.key]
			if a == nil {
				a = &acc{}
				all[e.key] = a
			}
			a.count += e.count
			a.err += e.err
			a.shard = e.shard
		}
	}
	// A key a full summary does not hold may have had up to its minimum
	// there (mergeable summaries, Agarwal et al. 2012).
	for key, a := range all {
		for _, s := range sums {
			if m := s.min(); m > 0 {
				if _, ok := s.idx[key]; !ok {
					a.count += m
					a.err += m
				}
			}
		}
	}
	out := make([]HotKey, 0, len(all))
	scale := int64(h.opts.SampleEvery)
	for key, a := range all {
		hk := HotKey{Key: key, Shard: a.shard, Count: a.count * scale, Err: a.err * scale}
		if c := st.Counts[a.shard]; c > 0 {
			hk.Share = min(1, float64(hk.Count)/float64(c))
		}
		out = append(out, hk)
	}
	slices.SortFunc(out, func(a, b HotKey) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out[:min(k, len(out))]
}

// Suggest returns the keys worth isolating in a [Directory] (with
// [Map.WithOverride]), busiest first: those whose guaranteed count
// (Count-Err) is at least Threshold of their shard's requests in the
// window. Moving such a key to a shard of its own (or the least loaded one)
// takes that share off its shard, as Citus's tenant isolation does.
func (h *Hot) Suggest() []HotKey {
	st := h.Stats()
	var out []HotKey
	for _, k := range h.TopKeys(h.opts.Capacity) {
		c := st.Counts[k.Shard]
		if c > 0 && float64(k.Count-k.Err) >= h.opts.Threshold*float64(c) {
			out = append(out, k)
		}
	}
	return out
}

// Close unregisters the metrics. It is idempotent; Record keeps working.
func (h *Hot) Close() error {
	h.rot.Lock()
	reg := h.reg
	h.reg = nil
	h.rot.Unlock()
	if reg != nil {
		return reg.Unregister()
	}
	return nil
}

func (h *Hot) initMetrics() error {
	mp := h.opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	rate, err1 := m.Float64ObservableGauge("ladder.shard.request.rate",
		metric.WithDescription("Requests per second to each shard over the hot-shard window."), metric.WithUnit("{request}/s"))
	skew, err2 := m.Float64ObservableGauge("ladder.shard.skew",
		metric.WithDescription("The busiest shard's requests over the mean (1: balanced)."), metric.WithUnit("1"))
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("shard: metrics: %w", err)
	}
	attrs := make([]metric.ObserveOption, len(h.names))
	for i, name := range h.names {
		attrs[i] = metric.WithAttributeSet(attribute.NewSet(attribute.String("ladder.shard.shard", name)))
	}
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := h.Stats()
		for i, r := range st.Rates {
			o.ObserveFloat64(rate, r, attrs[i])
		}
		o.ObserveFloat64(skew, st.Skew)
		return nil
	}, rate, skew)
	if err != nil {
		return fmt.Errorf("shard: metrics: %w", err)
	}
	h.reg = reg
	return nil
}
