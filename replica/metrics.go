package replica

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

const scope = "github.com/ladder-go/ladder/replica"

// Attribute keys of the replica metrics.
const (
	AttrRole    = attribute.Key("ladder.replica.role")    // primary, replica
	AttrReason  = attribute.Key("ladder.replica.reason")  // why a read went to the primary, or a rotation change
	AttrNode    = attribute.Key("ladder.replica.node")    // a node's name
	AttrOutcome = attribute.Key("ladder.replica.outcome") // reached, timeout, error
	AttrChange  = attribute.Key("ladder.replica.change")  // in, out (rotation); followed, promoted (failover)
)

// reason is why a read went to the primary.
type reason uint8

const (
	reasonNone        reason = iota
	reasonMarked             // WithPrimary: not a fallback
	reasonPinned             // a time pin: RYWTimePin, a rejected token, a position not read
	reasonNoReplica          // no replica serving
	reasonNotCaughtUp        // RYWCausalFast: no replica known to have the write
	reasonWaitTimeout        // RYWCausalWait: the replica did not catch up in time
	reasonWaitError          // RYWCausalWait: the replica failed while waited on
	reasonCount
)

var reasonNames = [reasonCount]string{"", "marked", "pinned", "no_replica", "not_caught_up", "wait_timeout", "wait_error"}

const (
	rolePrimary = 0
	roleReplica = 1
)

const (
	waitReached = iota
	waitTimeout
	waitError
)

var waitNames = [...]string{"reached", "timeout", "error"}

var tokenReasons = [...]string{"malformed", "forged", "expired"}

type metrics struct {
	queries        striped2
	fallbacks      [reasonCount]atomic.Int64
	tokens         [len(tokenReasons)]atomic.Int64
	positionErrors atomic.Int64

	waitDur   metric.Float64Histogram
	waitAttrs [len(waitNames)]metric.RecordOption
	rotation  metric.Int64Counter
	failovers metric.Int64Counter
	reg       metric.Registration
	db        *dbMetrics
}

func newMetrics(mp metric.MeterProvider, r *Router) (*metrics, error) {
	explicit := mp != nil
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := mp.Meter(scope)
	mt := &metrics{}
	var first error
	must := func(err error) {
		if first == nil && err != nil {
			first = fmt.Errorf("replica: metrics: %w", err)
		}
	}
	var err error
	mt.waitDur, err = m.Float64Histogram("ladder.replica.causal.wait.duration", metric.WithUnit("s"),
		metric.WithDescription("Time a causal read waited for a replica to replay the session's last write."))
	must(err)
	for i, w := range waitNames {
		mt.waitAttrs[i] = metric.WithAttributeSet(attribute.NewSet(AttrOutcome.String(w)))
	}
	mt.rotation, err = m.Int64Counter("ladder.replica.rotation.changes", metric.WithUnit("{change}"),
		metric.WithDescription("Replicas entering (in) or leaving (out) the read rotation."))
	must(err)
	mt.failovers, err = m.Int64Counter("ladder.replica.failovers", metric.WithUnit("{failover}"),
		metric.WithDescription("Writes moved to another node: followed (promoted by something else) or promoted (by this router)."))
	must(err)
	queries, err := m.Int64ObservableCounter("ladder.replica.queries", metric.WithUnit("{query}"),
		metric.WithDescription("Statements routed, by the role of the node they went to."))
	must(err)
	fallbacks, err := m.Int64ObservableCounter("ladder.replica.fallbacks", metric.WithUnit("{query}"),
		metric.WithDescription("Reads sent to the primary instead of a replica, by reason."))
	must(err)
	tokens, err := m.Int64ObservableCounter("ladder.replica.tokens.rejected", metric.WithUnit("{token}"),
		metric.WithDescription("Read-your-writes tokens rejected (malformed, forged, expired); their reads went to the primary."))
	must(err)
	posErrs, err := m.Int64ObservableCounter("ladder.replica.position.errors", metric.WithUnit("{write}"),
		metric.WithDescription("Writes whose position could not be read; their sessions were pinned to the primary."))
	must(err)
	lag, err := m.Float64ObservableGauge("ladder.replica.lag", metric.WithUnit("s"),
		metric.WithDescription("Replication lag of each replica in time, as last probed."))
	must(err)
	lagBytes, err := m.Int64ObservableGauge("ladder.replica.lag.bytes", metric.WithUnit("By"),
		metric.WithDescription("Replication lag of each replica in write history, as last probed."))
	must(err)
	if first != nil {
		return nil, first
	}
	roleSets := [2]metric.ObserveOption{
		metric.WithAttributeSet(attribute.NewSet(AttrRole.String("primary"))),
		metric.WithAttributeSet(attribute.NewSet(AttrRole.String("replica"))),
	}
	mt.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		for role := range 2 {
			o.ObserveInt64(queries, mt.queries.sum(role), roleSets[role])
		}
		for i := reasonPinned; i < reasonCount; i++ {
			o.ObserveInt64(fallbacks, mt.fallbacks[i].Load(), metric.WithAttributes(AttrReason.String(reasonNames[i])))
		}
		for i, name := range tokenReasons {
			o.ObserveInt64(tokens, mt.tokens[i].Load(), metric.WithAttributes(AttrReason.String(name)))
		}
		o.ObserveInt64(posErrs, mt.positionErrors.Load())
		w := r.primary.Load()
		for _, n := range r.nodes {
			l := n.lag.Load()
			if n == w || l < 0 || Role(n.role.Load()) != RoleReplica {
				continue
			}
			attrs := metric.WithAttributes(AttrNode.String(n.name))
			o.ObserveFloat64(lag, time.Duration(l).Seconds(), attrs)
			o.ObserveInt64(lagBytes, int64(n.lagBytes.Load()), attrs)
		}
		return nil
	}, queries, fallbacks, tokens, posErrs, lag, lagBytes)
	if err != nil {
		return nil, fmt.Errorf("replica: metrics: %w", err)
	}
	if mt.db, err = newDBMetrics(m, mp, explicit, r.nodes); err != nil {
		mt.close()
		return nil, fmt.Errorf("replica: metrics: %w", err)
	}
	return mt, nil
}

func (m *metrics) close() {
	if m.reg != nil {
		_ = m.reg.Unregister()
	}
	if m.db != nil && m.db.reg != nil {
		_ = m.db.reg.Unregister()
	}
}

func (m *metrics) fallback(why reason) {
	if why != reasonMarked {
		m.fallbacks[why].Add(1)
	}
}

func (m *metrics) waited(ctx context.Context, start time.Time, outcome int) {
	m.waitDur.Record(ctx, time.Since(start).Seconds(), m.waitAttrs[outcome])
}

func (m *metrics) rotated(node string, in bool, why string) {
	change := "out"
	if in {
		change = "in"
	}
	m.rotation.Add(context.Background(), 1, metric.WithAttributes(AttrNode.String(node), AttrChange.String(change), AttrReason.String(why)))
}

// striped2 is two counters (by role) bumped on every query, spread over
// cache lines by the calling goroutine so that cores do not trade one line.
// A caller that finds its stripe contended moves the salt, remapping every
// goroutine (as lb's turn cells do).
type striped2 struct {
	salt atomic.Uint64
	_    [56]byte
	c    [stripes]struct {
		n [2]atomic.Int64
		_ [48]byte
	}
}

const stripeBits = 3
const stripes = 1 << stripeBits

func (s *striped2) add(role int) {
	salt := s.salt.Load()
	var here byte
	p := uint64(uintptr(unsafe.Pointer(&here)))>>11 ^ salt*0xbf58476d1ce4e5b9
	c := &s.c[(p*0x9e3779b97f4a7c15)>>(64-stripeBits)].n[role]
	x := c.Load()
	if !c.CompareAndSwap(x, x+1) {
		s.salt.CompareAndSwap(salt, salt+1)
		c.Add(1)
	}
}

func (s *striped2) sum(role int) int64 {
	var t int64
	for i := range s.c {
		t += s.c[i].n[role].Load()
	}
	return t
}
