package cache

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/ladder-go/ladder/internal/stripe"
)

// TinyLFU is W-TinyLFU (Einziger, Friedman & Manes, 2017), the policy of
// Caffeine and otter: a small LRU window takes every new entry, and an entry
// leaving the window enters the main space only if a frequency sketch says it
// has been used more often than the entry it would displace. The main space
// is a segmented LRU (probation, and protected for entries used there
// again). Frequency-based admission is what keeps a loop larger than the
// cache, or a one-pass scan, from flushing entries that are used again: an
// LRU, 2Q or ARC admits every new key. The window's share of the cache adapts
// by hill climbing on the hit ratio (Caffeine's), from 1 % towards recency
// when the workload rewards it and back towards frequency when not.
//
// Hits take no lock and write nothing shared: a hit is one hash and a
// probe or two of the store's own open-addressing index (written under the
// store's lock, read without one), a per-entry use count bumped until it
// saturates (so a hot entry's line stays shared once it has), and an add to
// a striped hit counter on the calling goroutine's own cache line: the
// store's, or under an [Aside] the Aside's, which the climber then samples,
// so a hit through an Aside is counted once. The window and
// segment order are CLOCK approximations of LRU (an entry used since it was
// last considered gets a second chance instead of being evicted or
// demoted), and an entry's uses are folded into the sketch when eviction
// considers it, under the store's lock, so the sketch needs no atomics. A
// miss is counted when its entry is Set.
//
// The sketch is a count-min sketch of 4-bit counters halved every 5 × size
// increments; it costs 8 bytes per entry of the bound and at least 8 KiB
// (sized for up to 65 536 entries at construction, growing with the
// entries held beyond that). With a MaxCost, the
// window and segments are sized in cost rather than entries.
//
// Build one with [NewTinyLFU]; the zero value is not usable.
type TinyLFU[K comparable, V any] struct {
	_  [64]byte // the lock shares no cache line with data hits read
	mu sync.Mutex
	// Segments, most recent at the front; weights are costs with a MaxCost,
	// else 1 per entry.
	window, probation, protected tlist[K, V]
	n                            int   // entries held
	capacity                     int64 // size, or MaxCost when set: the unit of the targets below
	windowMax, protectedMax      int64
	sk                           *sketch
	rnd                          uint64 // xorshift state for the random admission of hot candidates
	// Hill climbing (Caffeine's): every sample requests, move windowMax by
	// step in the direction that raised the hit ratio.
	misses, sampleHits, sampleMisses int64
	prevRate, step                   float64
	bound
	_   [64]byte
	idx *tindex[K, V] // kept in step with the segments by every write; read by hits
	// The hits the climber samples: those counted here (Get), and those of
	// the Asides reading through an asideView (countHitsIn), which count
	// their own so that a hit costs one striped add, not two. asides is
	// written and read under mu.
	asides []*stripe.Counter
	hits   stripe.Counter
}

// tnode is a TinyLFU entry: its place in a segment and its uses since
// eviction last considered it.
type tnode[K comparable, V any] struct {
	e          atomic.Pointer[Entry[V]]
	uses       atomic.Uint32 // hits since last considered, saturating at maxUses
	prev, next *tnode[K, V]
	key        K
	hash       uint64
	weight     int64
	seg        uint8
}

const (
	segWindow uint8 = iota + 1
	segProbation
	segProtected

	maxUses = 15 // a hot entry stops writing its line after this many hits

	windowStart       = 0.01   // the window's initial share
	protectedShare    = 0.80   // of the main space
	climbStep         = 0.0625 // of capacity
	climbRestart      = 0.05   // a hit-ratio change this large restarts the step
	climbDecay        = 0.98
	admitHashDoSFreq  = 6   // candidates this frequent are sometimes admitted anyway
	admitHashDoSOneIn = 128 // … one in this many times
)

var _ Store[string, int] = (*TinyLFU[string, int])(nil)

// NewTinyLFU returns a W-TinyLFU store holding at most size entries.
func NewTinyLFU[K comparable, V any](size int, opts StoreOptions) (*TinyLFU[K, V], error) {
	if err := opts.validate("TinyLFU", size); err != nil {
		return nil, err
	}
	s := &TinyLFU[K, V]{idx: newTindex[K, V](), bound: bound{size: size, maxCost: opts.MaxCost}, rnd: 0x9e3779b97f4a7c15}
	s.capacity = int64(size)
	if opts.MaxCost > 0 {
		s.capacity = opts.MaxCost
	}
	s.setWindow(max(1, int64(float64(s.capacity)*windowStart)))
	s.step = -climbStep * float64(s.capacity)
	// The sketch starts small and grows with the entries held.
	s.sk = newSketch(min(size, 1<<16))
	return s, nil
}

func (s *TinyLFU[K, V]) setWindow(w int64) {
	s.windowMax = min(max(w, 1), s.capacity)
	s.protectedMax = int64(protectedShare * float64(s.capacity-s.windowMax))
}

// Get returns the entry for key and counts the use.
func (s *TinyLFU[K, V]) Get(key K) (*Entry[V], bool) {
	e, ok := s.get(key)
	if ok {
		s.hits.Add(1)
	}
	return e, ok
}

// get is Get without counting the hit for the climber.
func (s *TinyLFU[K, V]) get(key K) (*Entry[V], bool) {
	n := s.idx.get(key)
	if n == nil {
		return nil, false
	}
	if u := n.uses.Load(); u < maxUses { // read first: a hot entry's line stays shared
		n.uses.Store(u + 1) // lossy under contention, like any sketch
	}
	return n.e.Load(), true
}

// maxAsides is how many Asides' hit counters a store samples; an Aside
// built beyond them reads through Get, which counts its hits here as well
// (two striped adds per hit), rather than the store pinning more counters.
const maxAsides = 8

// asideView is a TinyLFU as an Aside that counts its own hits reads it:
// Get counts no hit, since the climber samples the Aside's count.
type asideView[K comparable, V any] struct{ *TinyLFU[K, V] }

func (v asideView[K, V]) Get(key K) (*Entry[V], bool) { return v.get(key) }

// countHitsIn makes the climber sample c, an Aside's hit counter, beside
// the store's own, and returns the view the Aside must read through so
// that its hits are not counted here too; nil when maxAsides already are.
// The Aside counts only fresh hits, which is the hit ratio the window
// should climb on. Hits from Get (the store used directly, or by another
// Aside) are still counted here: the climber sees every hit, whoever asks.
func (s *TinyLFU[K, V]) countHitsIn(c *stripe.Counter) Store[K, V] {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.asides) == maxAsides {
		return nil
	}
	s.asides = append(s.asides, c)
	s.sampleHits += c.Load() // hits from before are not the sample's
	return asideView[K, V]{s}
}

// hitCount is the hit count the climber samples. s.mu held.
func (s *TinyLFU[K, V]) hitCount() int64 {
	n := s.hits.Load()
	for _, c := range s.asides {
		n += c.Load()
	}
	return n
}

func (s *TinyLFU[K, V]) weightOf(e *Entry[V]) int64 {
	if s.maxCost > 0 {
		return costOf(e)
	}
	return 1
}

// Set stores e as the most recent entry of the window, evicting what the
// policy rejects to make room; a replaced key keeps its place and counts as
// a use.
func (s *TinyLFU[K, V]) Set(key K, e *Entry[V]) (int, error) {
	c := costOf(e)
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.idx.hash(key)
	n := s.idx.find(key, h)
	if s.tooLarge(c) {
		if n != nil {
			s.drop(n)
		}
		return 0, fmt.Errorf("%w: TinyLFU: cost %d > MaxCost %d", ErrTooLarge, c, s.maxCost)
	}
	if n != nil {
		s.cost += c - costOf(n.e.Load())
		w := s.weightOf(e)
		s.list(n.seg).weight += w - n.weight
		n.weight = w
		n.e.Store(e)
		if u := n.uses.Load(); u < maxUses {
			n.uses.Store(u + 1)
		}
	} else {
		n = &tnode[K, V]{key: key, hash: h, weight: s.weightOf(e)}
		n.e.Store(e)
		s.misses++
		s.sk.increment(n.hash)
		s.window.pushFront(n, segWindow)
		s.n++
		s.cost += c
		s.idx.insert(n)
		if s.n > s.sk.entries() && s.sk.entries() < s.size {
			s.sk.resize(min(s.size, 2*s.n))
		}
		if s.misses&63 == 0 {
			s.climb()
		}
	}
	return s.evict(n), nil
}

// evict restores the bounds without evicting keep; it returns how many
// entries it evicted.
func (s *TinyLFU[K, V]) evict(keep *tnode[K, V]) int {
	// Window overflow goes to probation; the first entry moved is the
	// candidate for admission into the main space.
	var cand *tnode[K, V]
	for chances := s.window.len; s.window.weight > s.windowMax; {
		w := s.window.back()
		if w == keep {
			if s.window.len == 1 {
				break
			}
			s.window.moveToFront(w)
			continue
		}
		if chances > 0 && s.fold(w) {
			s.window.moveToFront(w) // used while in the window: LRU keeps it
			chances--
			continue
		}
		s.window.remove(w)
		s.probation.pushFront(w, segProbation)
		if cand == nil {
			cand = w
		}
	}
	evicted := 0
	chances := s.probation.len + s.protected.len
	for s.over(s.n, 0) {
		v := s.victim(keep, &chances)
		if v == nil {
			break // only keep is left: it fits, since it is not too large
		}
		if cand != nil && cand != v && cand.seg == segProbation && !s.admit(cand, v) {
			v = cand
		}
		cand = nil // one candidate per Set, as one entry arrives
		s.drop(v)
		evicted++
	}
	return evicted
}

// victim picks the entry to evict: the least recent in probation that was
// not used since last considered (a used one is promoted to protected,
// whose overflow is demoted to probation), else protected's, else the
// window's. It never picks keep.
func (s *TinyLFU[K, V]) victim(keep *tnode[K, V], chances *int) *tnode[K, V] {
	for {
		v := s.probation.back()
		if v == nil {
			break
		}
		if v == keep {
			if s.probation.len == 1 {
				break
			}
			s.probation.moveToFront(v)
			continue
		}
		if *chances > 0 && s.fold(v) {
			*chances--
			s.probation.remove(v)
			s.protected.pushFront(v, segProtected)
			for s.protected.weight > s.protectedMax {
				p := s.protected.back()
				if *chances > 0 && p != v && s.fold(p) {
					*chances--
					s.protected.moveToFront(p)
					continue
				}
				s.protected.remove(p)
				s.probation.pushFront(p, segProbation)
			}
			continue
		}
		return v
	}
	for _, l := range []*tlist[K, V]{&s.protected, &s.window, &s.probation} {
		for p := l.back(); p != nil; p = l.prev(p) {
			if p != keep {
				return p
			}
		}
	}
	return nil
}

// fold moves n's uses into the sketch and reports whether it had any.
func (s *TinyLFU[K, V]) fold(n *tnode[K, V]) bool {
	u := n.uses.Swap(0)
	for range u {
		s.sk.increment(n.hash)
	}
	return u > 0
}

// admit reports whether cand should displace victim.
func (s *TinyLFU[K, V]) admit(cand, victim *tnode[K, V]) bool {
	cf, vf := s.sk.frequency(cand.hash), s.sk.frequency(victim.hash)
	if cf > vf {
		return true
	}
	if cf >= admitHashDoSFreq {
		// A flood of keys colliding with a hot victim in the sketch must
		// not keep every newcomer out: admit one in 128 at random.
		s.rnd ^= s.rnd << 13
		s.rnd ^= s.rnd >> 7
		s.rnd ^= s.rnd << 17
		return s.rnd%admitHashDoSOneIn == 0
	}
	return false
}

// climb adapts the window once a sample of requests has been seen.
func (s *TinyLFU[K, V]) climb() {
	hits := s.hitCount()
	reqs := hits - s.sampleHits + s.misses - s.sampleMisses
	if reqs < 10*int64(min(s.capacity, math.MaxInt64/10)) && reqs < 10*int64(s.sk.entries()) {
		return
	}
	rate := float64(hits-s.sampleHits) / float64(reqs)
	change := rate - s.prevRate
	amount := s.step
	if change < 0 {
		amount = -s.step
	}
	next := climbDecay * amount
	if math.Abs(change) >= climbRestart {
		next = climbStep * float64(s.capacity)
		if amount < 0 {
			next = -next
		}
	}
	s.prevRate, s.step = rate, next
	s.sampleHits, s.sampleMisses = hits, s.misses
	s.setWindow(s.windowMax + int64(amount))
}

func (s *TinyLFU[K, V]) list(seg uint8) *tlist[K, V] {
	switch seg {
	case segWindow:
		return &s.window
	case segProbation:
		return &s.probation
	default:
		return &s.protected
	}
}

func (s *TinyLFU[K, V]) drop(n *tnode[K, V]) {
	s.list(n.seg).remove(n)
	n.seg = 0
	s.idx.remove(n)
	s.n--
	s.cost -= costOf(n.e.Load())
}

// Delete removes key.
func (s *TinyLFU[K, V]) Delete(key K) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.idx.get(key)
	if n != nil {
		s.drop(n)
	}
	return n != nil
}

// Len returns the number of entries held.
func (s *TinyLFU[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// tlist is a segment: a doubly linked ring of tnodes with a sentinel.
type tlist[K comparable, V any] struct {
	head   tnode[K, V]
	len    int
	weight int64
}

func (l *tlist[K, V]) pushFront(n *tnode[K, V], seg uint8) {
	if l.head.next == nil {
		l.head.next, l.head.prev = &l.head, &l.head
	}
	n.prev, n.next = &l.head, l.head.next
	l.head.next.prev = n
	l.head.next = n
	n.seg = seg
	l.len++
	l.weight += n.weight
}

func (l *tlist[K, V]) remove(n *tnode[K, V]) {
	n.prev.next = n.next
	n.next.prev = n.prev
	n.prev, n.next = nil, nil
	l.len--
	l.weight -= n.weight
}

func (l *tlist[K, V]) moveToFront(n *tnode[K, V]) {
	seg := n.seg
	l.remove(n)
	l.pushFront(n, seg)
}

// back returns the least recent node, or nil.
func (l *tlist[K, V]) back() *tnode[K, V] {
	if l.len == 0 {
		return nil
	}
	return l.head.prev
}

// prev returns the node before n towards the front, or nil at the front.
func (l *tlist[K, V]) prev(n *tnode[K, V]) *tnode[K, V] {
	if n.prev == &l.head {
		return nil
	}
	return n.prev
}
