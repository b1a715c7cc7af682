package lb

import (
	"math"
	"slices"
	"time"
)

// snapshot is the immutable state picks read: the members by position and,
// per zone in order of preference, the eligible ones with their picker.
type snapshot[T any] struct {
	all         []*Endpoint
	vals        []T
	tiers       []tier
	only        Picker   // the one tier's picker when it spans all, in order, with no MaxInFlight
	cum         []uint64 // cumulative traffic share per tier, out of 1<<32
	rand        func() uint64
	maxInFlight int64
	healthy     int
	ok          []bool // eligible by position
	panic       bool
	anyEjected  bool // a member is passively ejected
	mode        int  // modeBare or modeTracked; modeCounted while telemetry records
	met         *poolMetrics
	// counted is set when every picker counts its own picks (round robin's
	// turns, see pickCounter): in a bare pool, telemetry then adds nothing
	// to a pick and its done.
	counted bool
	// folded is set (under poolMetrics.mu) once the snapshot is retired
	// (being replaced): its pickers' counts are read through poolMetrics.retired.
	folded bool
}

// pickCounter is a picker that counts its own picks per endpoint as part of
// picking, so a bare pool's request counters need no atomic of their own.
type pickCounter interface {
	// picks adds each endpoint's picks so far to count (one per endpoint
	// of its PickerConfig, in order).
	picks(count []uint64)
}

// selfPicks adds the picks the pickers counted to count, by position.
func (s *snapshot[T]) selfPicks(count []uint64) {
	if !s.counted {
		return
	}
	for _, t := range s.tiers {
		tmp := make([]uint64, len(t.pos))
		t.picker.(pickCounter).picks(tmp)
		for k, i := range t.pos {
			count[i] += tmp[k]
		}
	}
}

// startDelta is one request started (and none in flight) in a flow word.
const startDelta = 1 << flowBits

// Count modes of a pick: what begin counted and its done undoes.
const (
	modeBare    = iota // nothing: done feeds passive health only
	modeTracked        // requests in flight and started, for the policy or MaxInFlight
	modeCounted        // the same, and errors, for telemetry
	modeStarted        // a bare pool's pick while telemetry records: started and errors, not in flight
)

// begin counts a pick of e (made by choose) and returns the done callback
// undoing just that. A bare pool (no policy reading in-flight counts) counts
// only what telemetry needs of a pick (requests started) and nothing in its
// done, and a round robin picker has counted even that already.
func (s *snapshot[T]) begin(e *Endpoint) func(Outcome) {
	m := s.mode
	if s.met.on() {
		if m == modeBare {
			if !s.counted {
				e.cells.add(startDelta)
			}
			return e.dones[modeStarted]
		}
		m = modeCounted
	}
	if m != modeBare {
		e.begin()
	}
	return e.dones[m]
}

// beginTry counts a Proxy or Transport try on e: like begin, and in a bare
// pool whose telemetry records, the request in flight too (a try costs
// microseconds: the gauge is worth its atomic there). picked says whether
// e came from choose (so a counting picker counted its start).
func (s *snapshot[T]) beginTry(e *Endpoint, picked bool) func(Outcome) {
	if s.mode != modeBare {
		return s.begin(e)
	}
	self := picked && s.counted
	if !s.met.on() {
		if s.counted && !picked {
			e.cells.add(startDelta) // a sticky pin: the picker never saw it
		}
		return e.dones[modeBare]
	}
	if self {
		e.cells.add(1) // in flight; the picker counted the start
	} else {
		e.cells.add(flowBegin)
	}
	return e.dones[modeCounted]
}

// unpick takes back the start a counting picker counted for position i
// when the pick is thrown away (a retry avoiding a backend already tried).
func (s *snapshot[T]) unpick(i int) {
	if s.counted && s.mode == modeBare && i >= 0 {
		s.all[i].unpicked.Add(1)
	}
}

type tier struct {
	pos    []int // positions in all
	picker Picker
}

// choose returns a position in all, or -1.
func (s *snapshot[T]) choose(key uint64, keyed bool) int {
	if s == nil {
		return -1
	}
	if s.only != nil {
		return s.only.Pick(key, keyed)
	}
	if len(s.tiers) == 0 {
		return -1
	}
	t := 0
	if len(s.tiers) > 1 {
		r := s.rand() >> 32
		for t < len(s.cum)-1 && r >= s.cum[t] {
			t++
		}
	}
	i := s.tiers[t].pos[s.tiers[t].picker.Pick(key, keyed)]
	if s.maxInFlight > 0 && s.all[i].flow.inflight() >= s.maxInFlight {
		// Saturated: spill to the next zone whose pick has room.
		for u := t + 1; u < len(s.tiers); u++ {
			j := s.tiers[u].pos[s.tiers[u].picker.Pick(key, keyed)]
			if s.all[j].flow.inflight() < s.maxInFlight {
				return j
			}
		}
	}
	return i
}

// chooseExcept picks like choose but avoids the positions in tried when
// another eligible backend exists, for retries on a different backend.
// picked says whether the position came from choose (its start counted by a
// counting picker); choices thrown away are taken back (unpick).
func (s *snapshot[T]) chooseExcept(key uint64, keyed bool, tried []int) (pos int, picked bool) {
	i := s.choose(key, keyed)
	for attempt := 0; attempt < 2 && i >= 0 && slices.Contains(tried, i); attempt++ {
		s.unpick(i)
		i = s.choose(s.rand(), keyed)
	}
	if i < 0 || !slices.Contains(tried, i) {
		return i, true
	}
	s.unpick(i)
	for _, t := range s.tiers {
		off := int(s.rand() % uint64(len(t.pos)))
		for k := range t.pos {
			if j := t.pos[(k+off)%len(t.pos)]; !slices.Contains(tried, j) {
				return j, false
			}
		}
	}
	return i, false
}

// rebuild computes and publishes a new snapshot; p.mu is held.
func (p *Pool[T]) rebuild(now time.Time) {
	s := &snapshot[T]{all: p.members, vals: p.values, rand: p.opts.Rand, maxInFlight: int64(p.opts.MaxInFlight),
		mode: p.mode, met: p.met}
	for _, e := range p.members {
		if e.eligible() {
			s.healthy++
		}
		s.anyEjected = s.anyEjected || e.ejected
	}
	n := len(p.members)
	s.panic = n > 0 && p.opts.PanicThreshold > 0 && float64(s.healthy) < p.opts.PanicThreshold*float64(n)
	s.ok = make([]bool, n)
	for i, e := range p.members {
		s.ok[i] = s.panic || e.eligible()
	}
	ramping := false
	var shares []float64
	zones := p.zoneOrder()
	if s.panic {
		zones = nil // one tier of every member: zones are ignored in panic
	}
	for z := 0; z == 0 || z < len(zones); z++ {
		var pos []int
		total := 0
		for i, e := range p.members {
			if zones != nil && e.zone != zones[z] {
				continue
			}
			total++
			if s.panic || e.eligible() {
				pos = append(pos, i)
			}
		}
		if len(pos) == 0 {
			continue
		}
		eps := make([]*Endpoint, len(pos))
		ws := make([]float64, len(pos))
		for k, i := range pos {
			eps[k] = p.members[i]
			f, ramp := p.opts.SlowStart.factor(eps[k].admitted, now)
			ramping = ramping || ramp
			ws[k] = eps[k].weight * f
		}
		cfg := PickerConfig{Endpoints: eps, Weights: ws, Rand: p.opts.Rand, Now: p.opts.Now}
		s.tiers = append(s.tiers, tier{pos: pos, picker: p.newPicker(cfg)})
		shares = append(shares, float64(len(pos))/float64(total))
	}
	s.cum = spill(shares, p.opts.Overprovisioning, s.panic)
	if len(s.tiers) == 1 && s.maxInFlight == 0 && len(s.tiers[0].pos) == len(s.all) {
		s.only = s.tiers[0].picker // positions are 0…n-1: the picker's index is the position
	}
	s.counted = s.mode == modeBare && len(s.tiers) > 0
	for _, t := range s.tiers {
		if _, ok := t.picker.(pickCounter); !ok {
			s.counted = false
		}
	}
	p.met.mu.Lock()
	p.foldPicks()
	p.snap.Store(s)
	p.met.mu.Unlock()
	if ramping {
		p.scheduleTick()
	}
}

// spill turns each zone's healthy share into its share of traffic: a zone
// takes min(1, healthy×overprovisioning) of what the nearer zones left, and
// what remains at the end is spread in proportion.
func spill(healthy []float64, over float64, panic bool) []uint64 {
	if len(healthy) <= 1 {
		return nil
	}
	load := make([]float64, len(healthy))
	left := 1.0
	for i, h := range healthy {
		if panic {
			h = 1
		}
		load[i] = math.Min(left, h*over)
		left -= load[i]
	}
	sum := 1 - left
	if !(sum > 0) {
		return nil // an overprovisioning factor so small every load is 0: all to the nearest
	}
	cum := make([]uint64, len(load))
	acc := 0.0
	for i, l := range load {
		acc += l / sum
		cum[i] = uint64(math.Min(acc, 1) * (1 << 32))
	}
	cum[len(cum)-1] = 1 << 32
	return cum
}

// zoneOrder lists the zones present: configured ones first, then the others
// in order of appearance.
func (p *Pool[T]) zoneOrder() []string {
	var known, rest []string
	for _, e := range p.members {
		if _, ok := p.zoneRank[e.zone]; ok {
			if !slices.Contains(known, e.zone) {
				known = append(known, e.zone)
			}
		} else if !slices.Contains(rest, e.zone) {
			rest = append(rest, e.zone)
		}
	}
	slices.SortFunc(known, func(a, b string) int { return p.zoneRank[a] - p.zoneRank[b] })
	return append(known, rest...)
}

func (e *Endpoint) eligible() bool { return !e.ejected && !e.down }
