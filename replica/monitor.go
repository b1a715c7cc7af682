package replica

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// monitorState belongs to the monitor goroutine (and Check, which runs
// under the same lock).
type monitorState struct {
	mu          sync.Mutex
	maxTimeline uint64   // highest timeline any node reported
	fencedAt    []uint64 // per node: lost the writer role at this timeline (0: never); +1 so timeline 0 counts
	issue       []string // per node: the last problem logged, "" if none
	fails       int      // consecutive rounds without a reachable primary
	promoted    *node    // the replica this router promoted, until it is the writer
	waited      int      // rounds since the promotion without it taking writes
}

// reading is one probe of one node.
type reading struct {
	st       NodeState
	err      error
	failures uint64 // the node's failures count when the probe started
}

func (r *Router) monitor() {
	defer r.wg.Done()
	ctx := r.ctx
	t := time.NewTicker(r.opts.ProbeInterval)
	defer t.Stop()
	for {
		r.round(ctx)
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}

// prober is what a probe runs on: a node's *sql.DB or a *sql.Conn of it.
type prober interface {
	Querier
	PingContext(ctx context.Context) error
}

// probe reads every node's state at once. The monitor (held) probes on a
// connection it keeps per node, so that an application holding every other
// connection of a pool cannot make a busy node look dead; Check uses the
// pools.
func (r *Router) probe(ctx context.Context, held bool) []reading {
	rs := make([]reading, len(r.nodes))
	var wg sync.WaitGroup
	for i, n := range r.nodes {
		rs[i].failures = n.failures.Load()
		wg.Go(func() {
			pctx, cancel := context.WithTimeout(ctx, r.opts.ProbeTimeout)
			defer cancel()
			var q prober = n.db
			if held {
				if r.held[i] == nil {
					c, err := n.db.Conn(pctx)
					if err != nil {
						rs[i].err = err
						return
					}
					r.held[i] = c
				}
				q = r.held[i]
			}
			if r.opts.Positions == nil {
				rs[i].err = q.PingContext(pctx)
			} else {
				rs[i].st, rs[i].err = r.state(pctx, q)
			}
			if held && rs[i].err != nil {
				// The connection may be broken or mid-cancel: take a fresh one next time.
				_ = r.held[i].Close()
				r.held[i] = nil
			}
		})
	}
	wg.Wait()
	return rs
}

// closeHeld returns the monitor's connections to their pools, once it has stopped.
func (r *Router) closeHeld() {
	for i, c := range r.held {
		if c != nil {
			_ = c.Close()
			r.held[i] = nil
		}
	}
}

// round probes every node and applies what it learned.
func (r *Router) round(ctx context.Context) {
	rs := r.probe(ctx, true)
	if ctx.Err() != nil {
		return
	}
	r.mon.mu.Lock()
	defer r.mon.mu.Unlock()
	if r.mon.fencedAt == nil {
		r.mon.fencedAt = make([]uint64, len(r.nodes))
		r.mon.issue = make([]string, len(r.nodes))
	}
	w := r.apply(rs)
	if w != nil || r.opts.Failover != FailoverCoordinate {
		return
	}
	if r.mon.promoted != nil {
		// One promotion at a time: wait for the promoted node to take
		// writes, and only after FailoverAfter more rounds without it
		// consider another (it may have died too).
		if r.mon.waited++; r.mon.waited < r.opts.FailoverAfter {
			return
		}
		r.mon.promoted = nil
	}
	if p := r.promote(ctx, rs); p != nil {
		r.mon.promoted, r.mon.waited = p, 0
		r.apply(r.probe(ctx, true))
	}
}

// apply records the readings, chooses the writer and sets the rotation. It
// returns the writer if it answered this round, nil if writes have nowhere
// to go.
func (r *Router) apply(rs []reading) *node {
	m := &r.mon
	for i, n := range r.nodes {
		if rs[i].err != nil {
			continue
		}
		st := rs[i].st
		if st.Role != RoleUnknown {
			n.role.Store(uint32(st.Role))
		}
		n.timeline.Store(st.Timeline)
		n.known.Store(uint64(st.Position))
		n.probed.Store(true)
		m.maxTimeline = max(m.maxTimeline, st.Timeline)
	}
	w := r.chooseWriter(rs)
	if w == nil || rs[w.idx].err != nil {
		m.fails++
	} else {
		m.fails = 0
	}
	r.setRotation(rs, w)
	if w == nil || rs[w.idx].err != nil {
		return nil
	}
	return w
}

// eligible reports whether n may take writes: it says it is the primary, on
// the newest timeline, and it is not a former writer that has not moved to a
// newer timeline since it lost the role (fencing).
func (r *Router) eligible(n *node, rd reading) bool {
	if rd.err != nil || rd.st.Role != RolePrimary || rd.st.Timeline < r.mon.maxTimeline {
		return false
	}
	f := r.mon.fencedAt[n.idx]
	return f == 0 || rd.st.Timeline+1 > f
}

// chooseWriter moves writes when the nodes say the primary changed.
func (r *Router) chooseWriter(rs []reading) *node {
	m := &r.mon
	cur := r.primary.Load()
	if r.opts.Failover == FailoverOff || r.opts.Positions == nil {
		return cur
	}
	var best *node
	for _, n := range r.nodes {
		if !r.eligible(n, rs[n.idx]) {
			continue
		}
		if best == nil || rs[n.idx].st.Timeline > rs[best.idx].st.Timeline ||
			n == m.promoted || (n == cur && best != m.promoted) {
			best = n
		}
	}
	next := best
	switch {
	case cur != nil && (rs[cur.idx].err != nil || rs[cur.idx].st.Role == RoleUnknown):
		// The writer did not answer (or did not say what it is): keep it
		// (a blip) unless another node is a primary on a newer timeline,
		// or is the one we promoted.
		if best == nil || (best != m.promoted && rs[best.idx].st.Timeline <= cur.timeline.Load()) {
			next = cur
		}
	case cur != nil && r.eligible(cur, rs[cur.idx]) && best != m.promoted:
		next = cur
	}
	if next == cur {
		return cur
	}
	if cur != nil {
		m.fencedAt[cur.idx] = cur.timeline.Load() + 1
	}
	r.primary.Store(next)
	r.repool(next)
	change := "followed"
	if next != nil && next == m.promoted {
		change = "promoted"
		m.promoted = nil
	}
	switch {
	case next == nil:
		r.opts.Logger.Warn("replica: no node may take writes", "former", cur.name,
			"role", Role(cur.role.Load()).String(), "timeline", cur.timeline.Load(), "newest_timeline", m.maxTimeline)
	default:
		from := ""
		if cur != nil {
			from = cur.name
		}
		r.opts.Logger.Warn("replica: writes moved", "to", next.name, "from", from,
			"timeline", rs[next.idx].st.Timeline)
		r.met.failovers.Add(context.Background(), 1, metric.WithAttributes(AttrNode.String(next.name), AttrChange.String(change)))
	}
	return next
}

// setRotation puts in rotation the reachable replicas within the lag limits,
// and keeps at least MinServing of the reachable ones (the least lagging).
func (r *Router) setRotation(rs []reading, w *node) {
	var primaryPos Position
	primaryKnown := w != nil && rs[w.idx].err == nil && r.opts.Positions != nil
	if primaryKnown {
		primaryPos = rs[w.idx].st.Position
	}
	type cand struct {
		n     *node
		lag   time.Duration
		bytes uint64
	}
	want := make([]bool, len(r.nodes))
	why := make([]string, len(r.nodes))
	var over []cand
	serving := 0
	for i, n := range r.nodes {
		rd := rs[i]
		switch {
		case n == w:
			why[i] = "takes writes"
			continue
		case rd.err != nil:
			why[i] = "probe failed: " + rd.err.Error()
			continue
		case rd.failures != n.failures.Load():
			// A query found it unreachable after this probe started: only
			// a later probe may put it back.
			why[i] = "query failed since the probe started"
			continue
		case Role(n.role.Load()) == RolePrimary:
			why[i] = fmt.Sprintf("says it is a primary (timeline %d) but does not take writes", rd.st.Timeline)
			continue
		}
		c := cand{n: n, lag: rd.st.ReplayLag}
		if primaryKnown {
			if rd.st.Position >= primaryPos {
				c.lag = 0 // caught up: an idle primary makes the replay time look old
			} else {
				c.bytes = uint64(primaryPos - rd.st.Position)
			}
		}
		if r.opts.Positions != nil {
			n.lag.Store(int64(c.lag))
			n.lagBytes.Store(c.bytes)
		}
		if c.lag > r.opts.MaxLag || (r.opts.MaxLagBytes > 0 && c.bytes > r.opts.MaxLagBytes) {
			why[i] = fmt.Sprintf("lags %v, %d bytes", c.lag, c.bytes)
			over = append(over, c)
			continue
		}
		want[i] = true
		serving++
	}
	slices.SortStableFunc(over, func(a, b cand) int {
		if a.lag != b.lag {
			return int(min(max(a.lag-b.lag, -1), 1))
		}
		return int(min(max(int64(a.bytes)-int64(b.bytes), -1), 1))
	})
	for _, c := range r.nodes {
		c.lagging.Store(false)
	}
	for _, c := range over {
		if serving >= r.opts.MinServing {
			break
		}
		want[c.n.idx] = true
		why[c.n.idx] = ""
		c.n.lagging.Store(true)
		serving++
	}
	for i, n := range r.nodes {
		if n.serving.Load() != want[i] {
			n.serving.Store(want[i])
			r.pool.SetDown(n.name, !want[i])
			if n != w || want[i] {
				r.met.rotated(n.name, want[i], reasonOf(why[i]))
			}
		}
		if why[i] != r.mon.issue[i] && why[i] != "takes writes" {
			if why[i] == "" {
				r.opts.Logger.Info("replica: node serves reads", "node", n.name)
			} else {
				r.opts.Logger.Warn("replica: node out of read rotation", "node", n.name, "why", why[i])
			}
		}
		r.mon.issue[i] = why[i]
	}
}

// reasonOf is the metric attribute for a rotation change's cause.
func reasonOf(why string) string {
	switch {
	case why == "":
		return "healthy"
	case why == "takes writes":
		return "primary"
	case len(why) >= 5 && why[:5] == "probe":
		return "probe_failed"
	case len(why) >= 4 && why[:4] == "lags":
		return "lag"
	case len(why) >= 5 && why[:5] == "query":
		return "query_failed"
	default:
		return "role"
	}
}

// repool makes every node but the new writer w a member of the read pool,
// in or out of rotation as it was.
func (r *Router) repool(w *node) {
	if w != nil {
		w.serving.Store(false)
	}
	if err := r.pool.Update(r.readers(w)); err != nil {
		r.opts.Logger.Error("replica: updating the read pool", "err", err) // names and weights were checked by New
		return
	}
	for _, n := range r.nodes {
		if n != w {
			r.pool.SetDown(n.name, !n.serving.Load())
		}
	}
}

// markDown takes n out of rotation after a query found it unreachable; the
// monitor brings it back after a good probe.
func (r *Router) markDown(n *node, err error) {
	n.failures.Add(1)
	if n.serving.CompareAndSwap(true, false) {
		r.pool.SetDown(n.name, true)
		r.met.rotated(n.name, false, "query_failed")
		r.opts.Logger.Warn("replica: node out of read rotation", "node", n.name, "why", "query failed: "+err.Error())
	}
}

// promote promotes the most caught-up reachable replica once the writer has
// failed FailoverAfter rounds in a row, and returns it (nil if it did not).
func (r *Router) promote(ctx context.Context, rs []reading) *node {
	if r.mon.fails < r.opts.FailoverAfter {
		return nil
	}
	var best *node
	for i, n := range r.nodes {
		if rs[i].err != nil || rs[i].st.Role != RoleReplica || r.mon.fencedAt[i] != 0 && rs[i].st.Timeline+1 <= r.mon.fencedAt[i] {
			continue
		}
		if best == nil || rs[i].st.Position > rs[best.idx].st.Position {
			best = n
		}
	}
	if best == nil {
		r.opts.Logger.Error("replica: primary down and no replica to promote", "failed_probes", r.mon.fails)
		return nil
	}
	r.opts.Logger.Warn("replica: promoting", "node", best.name, "position", rs[best.idx].st.Position, "failed_probes", r.mon.fails)
	pctx, cancel := context.WithTimeout(ctx, r.opts.PromoteTimeout)
	defer cancel()
	if err := r.promoteNode(pctx, best.db); err != nil {
		r.opts.Logger.Error("replica: promotion failed", "node", best.name, "err", err)
		return nil
	}
	return best
}

// NodeStatus is what the router knows about one node.
type NodeStatus struct {
	Name string
	Zone string
	// State is the node's last reading (Position: the highest position it
	// is known to have replayed or written).
	State NodeState
	// Writer is true for the node writes go to.
	Writer bool
	// Serving is true for a node in the read rotation.
	Serving bool
	// LagBytes is how far behind the writer it was at the last probe.
	LagBytes uint64
}

// Status returns the router's view of every node: the configured primary
// first, then the replicas in the order given to New.
func (r *Router) Status() []NodeStatus {
	w := r.primary.Load()
	out := make([]NodeStatus, len(r.nodes))
	for i, n := range r.nodes {
		st := n.state()
		if st.ReplayLag < 0 {
			st.ReplayLag = 0
		}
		out[i] = NodeStatus{Name: n.name, Zone: n.zone, State: st, Writer: n == w,
			Serving: n.serving.Load(), LagBytes: n.lagBytes.Load()}
	}
	return out
}

// Check probes every node now and reports those that cannot be reached
// and those whose role contradicts the router's view: a replica that says
// it is a primary (a replica DSN pointing at a primary), or a writer that
// says it is a replica. Call it at startup, or as a health check.
func (r *Router) Check(ctx context.Context) error {
	rs := r.probe(ctx, false)
	w := r.primary.Load()
	var errs []error
	for i, n := range r.nodes {
		rd := rs[i]
		switch {
		case rd.err != nil:
			errs = append(errs, fmt.Errorf("replica: node %q: %w", n.name, rd.err))
		case rd.st.Role == RoleUnknown:
		case n == w && rd.st.Role != RolePrimary:
			errs = append(errs, fmt.Errorf("%w: node %q takes writes but says it is a %v", ErrRoleMismatch, n.name, rd.st.Role))
		case n != w && rd.st.Role == RolePrimary:
			errs = append(errs, fmt.Errorf("%w: node %q serves reads but says it is a primary (timeline %d)", ErrRoleMismatch, n.name, rd.st.Timeline))
		}
	}
	if w == nil {
		errs = append(errs, ErrNoPrimary)
	}
	return errors.Join(errs...)
}
