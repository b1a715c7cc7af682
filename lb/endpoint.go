package lb

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/internal/stripe"
)

// Outcome is what the caller of [Pool.Pick] reports through the done callback.
type Outcome struct {
	// Err is the error of the attempt, if any. A cancelled or expired context
	// is never counted as a failure of the backend.
	Err error
	// Latency of the attempt; zero means "not measured" and teaches the
	// latency-aware policies nothing.
	Latency time.Duration
	// Status is the protocol status (an HTTP status code), zero if none.
	Status int
}

// Endpoint is the live state of one backend, shared by every snapshot of a
// pool. Policies read it; only the pool writes it.
type Endpoint struct {
	name   string
	zone   string
	weight float64
	hash   uint64 // of name, for hashing policies

	flow      flow          // in flight and started, one word
	cells     *flowCells    // telemetry's flow in a bare pool; nil otherwise
	ewma      atomic.Uint64 // float64 bits, nanoseconds
	ewmaStamp atomic.Int64  // unix nanoseconds of the last ewma update
	fails     atomic.Int32  // consecutive failures
	errors    atomic.Int64  // failed, for metrics
	// reqBase is the requests started on the endpoint this one replaced
	// (same name): the counter's series goes on. reqSeen and reqTotal widen
	// flow's wrapping started count at each collection, and reqTotal takes
	// the picks a counting picker counted when its snapshot is replaced
	// (poolMetrics.mu).
	reqBase, reqSeen, reqTotal uint64
	// succ is the endpoint that replaced this one (same name), and
	// retiredRefs counts the retired snapshots holding this one (both under
	// poolMetrics.mu; see Pool.foldPicks).
	succ        *Endpoint
	retiredRefs int
	// unpicked counts picks a counting picker counted that were thrown
	// away (snapshot.unpick); the requests counter subtracts them.
	unpicked atomic.Uint64

	// Hung-backend detection (see RetryOptions.StallTimeout), in monotonic
	// nanoseconds: when the backend last answered (updated at most once a
	// millisecond), and when the latest try it answered within half of
	// StallTimeout was sent (exact).
	answeredAt, answeredSent atomic.Int64
	// firstSent and secondSent are when the first two tries sent after
	// its last answer were sent: a backend judged hung must have been
	// given a second one, which a backend busy with a lone slow request
	// at low traffic was not.
	firstSent, secondSent atomic.Int64
	// refusedOnly is set while every failure of the current run of
	// consecutive failures was a refused connection (nothing listening).
	refusedOnly atomic.Bool

	// dones are the done callbacks by count mode, built once: Pick
	// allocates nothing.
	dones [4]func(Outcome)

	// Guarded by the pool's mutex.
	ejected      bool
	down         bool // marked down by active health
	ejections    int
	ejectedUntil time.Time
	admitted     time.Time // last (re)admission: start of slow start; zero: none
	ejectTimer   stopper

	met *endpointMetrics
}

type stopper interface{ Stop() bool }

// Name is the backend's unique name.
func (e *Endpoint) Name() string { return e.name }

// Zone is the backend's locality, "" if none.
func (e *Endpoint) Zone() string { return e.zone }

// Weight is the configured weight (≥ 1).
func (e *Endpoint) Weight() float64 { return e.weight }

// InFlight is the number of picks whose done has not been called yet. It is
// counted only when something reads it: a policy weighing load
// ([LeastRequest], [PeakEWMA] and custom policies) or PoolOptions.MaxInFlight
// count every pick; with enabled telemetry, a pool whose policy reads no
// in-flight counts (round robin, random, hashing) counts the tries of
// [Proxy] and [Transport], which cost microseconds, and not direct picks,
// which cost nanoseconds and would pay two atomic operations each.
func (e *Endpoint) InFlight() int64 { return e.counts().inflight }

// Latency is the peak-sensitive moving average of reported latencies, zero
// until one is reported or when the pool's policy does not track latency.
func (e *Endpoint) Latency() time.Duration {
	return time.Duration(math.Float64frombits(e.ewma.Load()))
}

// observe folds one latency sample into the peak EWMA (Finagle's
// PeakEwma): a sample above the average replaces it, a lower one decays
// toward it with weight exp(-elapsed/decay).
// invDecay is 1/decay in 1/ns.
func (e *Endpoint) observe(lat time.Duration, now int64, invDecay float64) {
	x := float64(lat)
	prev := math.Float64frombits(e.ewma.Load())
	last := e.ewmaStamp.Swap(now)
	var next float64
	switch {
	case prev == 0 || x > prev:
		next = x
	default:
		w := expNeg(float64(now-last) * invDecay)
		next = x + (prev-x)*w // prev·w + x·(1-w)
	}
	e.ewma.Store(math.Float64bits(next))
}

// fnv64 hashes s with FNV-1a followed by a finalizer, allocating nothing.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

// mix64 is the splitmix64 finalizer.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// bounded maps a random 64-bit value to [0, n) without division.
func bounded(r uint64, n int) int {
	return int((r >> 32) * uint64(n) >> 32)
}

// expNeg approximates exp(-x) for x ≥ 0 by the reciprocal of its Taylor
// polynomial: within 0.02 of math.Exp everywhere (0.4% for x ≤ 1), decaying
// to 0 beyond, at a fraction of the cost.
func expNeg(x float64) float64 {
	if x <= 0 {
		return 1
	}
	return 1 / (1 + x*(1+x*(0.5+x*(1.0/6+x/24))))
}

// flow packs a backend's requests in flight (the low flowBits bits, signed)
// and the requests started on it (the high bits, wrapping) into one word, so
// that a pick counts both, for the policy and for telemetry, with one atomic
// add and its done uncounts the in-flight one with another: telemetry costs a
// pick nothing more than a policy weighing load already pays. The packing is
// linear (started<<flowBits + in flight), so words add up: a pool whose
// policy reads no in-flight counts (round robin, random, hashing) counts
// telemetry in per-goroutine cells instead (flowCells), so that cores picking
// one backend at once do not trade its line, and readers sum the cells.
// In flight stays below 1<<(flowBits-1) (8M requests on one backend, each
// holding a goroutine).
type flow struct{ w atomic.Uint64 }

const (
	flowBits    = 24
	flowStarted = 1<<(64-flowBits) - 1 // mask of the started count, once shifted down
	flowBegin   = 1<<flowBits + 1      // one more started, one more in flight
	flowEnd     = ^uint64(0)           // one fewer in flight
)

// inflight is what the policies read on every pick (never with cells).
func (f *flow) inflight() int64 { return int64(f.w.Load()<<(64-flowBits)) >> (64 - flowBits) }

// begin counts a pick of e; end counts its done.
func (e *Endpoint) begin() {
	if e.cells != nil {
		e.cells.add(flowBegin)
		return
	}
	e.flow.w.Add(flowBegin)
}

func (e *Endpoint) end() {
	if e.cells != nil {
		e.cells.add(flowEnd)
		return
	}
	e.flow.w.Add(flowEnd)
}

type flowCounts struct {
	inflight int64
	started  uint64 // modulo 1<<(64-flowBits)
}

// decodeFlow splits a (summed) flow word. A sum of cells read one after
// another may catch a done before its pick (in flight −1): in flight is
// signed, and readers clamp it.
func decodeFlow(w uint64) flowCounts {
	in := int64(w<<(64-flowBits)) >> (64 - flowBits) // sign-extended low bits
	return flowCounts{inflight: in, started: ((w - uint64(in)) >> flowBits) & flowStarted}
}

// flowCells spreads a bare pool's telemetry counts over cache lines, one
// cell per calling goroutine (internal/stripe); a done may land on another
// cell than its pick: only the sum means anything.
type flowCells struct {
	salt atomic.Uint64
	_    [56]byte
	c    [flowCellCount]struct {
		w atomic.Uint64
		_ [56]byte
	}
}

const (
	flowCellBits  = 3
	flowCellCount = 1 << flowCellBits
)

func (f *flowCells) add(d uint64) {
	salt := f.salt.Load()
	c := &f.c[stripe.Of(salt, flowCellBits)].w
	if x := c.Load(); c.CompareAndSwap(x, x+d) {
		return
	}
	f.salt.CompareAndSwap(salt, salt+1) // contended: remap every goroutine
	c.Add(d)
}

// counts reads e's flow word and cells.
func (e *Endpoint) counts() flowCounts {
	w := e.flow.w.Load()
	if e.cells != nil {
		for i := range e.cells.c {
			w += e.cells.c[i].w.Load()
		}
	}
	fc := decodeFlow(w)
	fc.inflight = max(fc.inflight, 0)
	return fc
}
