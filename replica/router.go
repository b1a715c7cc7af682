package replica

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/lb"
)

// Replica describes one replica of the primary.
type Replica struct {
	// Name identifies the replica in metrics and logs; it must be unique.
	// Empty means "replica<i>" (i counting from 1).
	Name string
	// DB is the replica's connection pool.
	DB *sql.DB
	// Zone is the replica's locality; see Options.Zones.
	Zone string
	// Weight is its share of reads relative to the others. Zero means 1.
	Weight int
}

// PrimaryName is the name of the node given to New as the primary, in
// metrics, logs and [Router.Status]: it keeps the name when a failover makes
// it a replica.
const PrimaryName = "primary"

// Router sends writes to the primary and reads to replicas. It is safe for
// concurrent use. Close stops its monitor; the *sql.DB values stay the
// caller's to close.
type Router struct {
	opts     Options
	keys     [][]byte // keys[0] signs
	nodes    []*node  // nodes[0] is the configured primary
	pool     *lb.Pool[*node]
	primary  atomic.Pointer[node] // where writes go; nil while none may take them
	global   atomic.Uint64        // highest write position of the process (RYWCausalGlobal)
	pinAll   atomic.Int64         // Unix ns: every read goes to the primary before it
	met      *metrics
	mon      monitorState
	held     []*sql.Conn // the monitor's connection per node (nil until made, or after an error)
	panicLog sync.Once

	ctx       context.Context // ends at Close, cancelling probes and promotions
	cancel    context.CancelFunc
	stop      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a router over primary and replicas and starts its monitor.
// Before the monitor's first probe every replica is in rotation; one that is
// down leaves at its first failed query or probe and joins when it answers.
// New does no I/O: call [Router.Check] to verify the nodes' roles at startup.
func New(primary *sql.DB, replicas []Replica, opts Options) (*Router, error) {
	if primary == nil {
		return nil, fmt.Errorf("%w: primary is nil", ErrNoPrimary)
	}
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Router{opts: o, stop: make(chan struct{})}
	key := o.TokenKey
	if key == nil {
		key = make([]byte, 32)
		_, _ = rand.Read(key) // never fails (crypto/rand)
	}
	r.keys = append([][]byte{key}, o.PreviousTokenKeys...)

	add := func(name string, db *sql.DB, zone string, weight int) {
		n := &node{idx: len(r.nodes), name: name, db: db, zone: zone, weight: weight}
		n.lag.Store(-1)
		r.nodes = append(r.nodes, n)
	}
	add(PrimaryName, primary, "", 1)
	seen := map[*sql.DB]string{primary: PrimaryName}
	for i, rep := range replicas {
		name := rep.Name
		if name == "" {
			name = fmt.Sprintf("replica%d", i+1)
		}
		if rep.DB == nil {
			return nil, fmt.Errorf("%w: replica %q: DB is nil", ErrInvalidOptions, name)
		}
		if other, dup := seen[rep.DB]; dup {
			return nil, fmt.Errorf("%w: replica %q: same *sql.DB as %q", ErrInvalidOptions, name, other)
		}
		if slices.ContainsFunc(r.nodes, func(n *node) bool { return n.name == name }) {
			return nil, fmt.Errorf("%w: replica %q: name used twice", ErrInvalidOptions, name)
		}
		if rep.Weight < 0 {
			return nil, fmt.Errorf("%w: replica %q: Weight %d: must be ≥ 0", ErrInvalidOptions, name, rep.Weight)
		}
		seen[rep.DB] = name
		add(name, rep.DB, rep.Zone, rep.Weight)
	}
	r.met, err = newMetrics(o.MeterProvider, r)
	if err != nil {
		return nil, err
	}
	// The router does its own health and lag filtering and keeps its own
	// minimum serving: lb's panic mode would send reads to a replica it took
	// out for lag. Passive ejection stays on, for connection failures only.
	r.pool, err = lb.NewPool(r.readers(r.nodes[0]), lb.PoolOptions{
		Policy:         o.Policy,
		Zones:          o.Zones,
		PanicThreshold: -1,
		IsFailure:      func(oc lb.Outcome) bool { return unavailable(oc.Err) },
		MeterProvider:  o.MeterProvider,
		Logger:         o.Logger,
	})
	if err != nil {
		r.met.close()
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	r.primary.Store(r.nodes[0])
	r.nodes[0].role.Store(uint32(RolePrimary))
	for _, n := range r.nodes[1:] {
		n.role.Store(uint32(RoleReplica))
		n.serving.Store(true)
	}
	r.held = make([]*sql.Conn, len(r.nodes))
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.wg.Add(1)
	go r.monitor()
	return r, nil
}

// readers are the pool's members: every node but the writer w, which
// serves reads only as the fallback.
func (r *Router) readers(w *node) []lb.Backend[*node] {
	out := make([]lb.Backend[*node], 0, len(r.nodes))
	for _, n := range r.nodes {
		if n != w {
			out = append(out, lb.Backend[*node]{Name: n.name, Value: n, Zone: n.zone, Weight: n.weight})
		}
	}
	return out
}

// Close stops the monitor and waits for it. Queries keep working with the
// last known roles; the *sql.DB values are not closed.
func (r *Router) Close() error {
	r.closeOnce.Do(func() {
		close(r.stop)
		r.cancel()
		r.wg.Wait()
		r.closeHeld()
		_ = r.pool.Close()
		r.met.close()
	})
	return nil
}

// writer returns the node writes go to.
func (r *Router) writer() (*node, error) {
	if n := r.primary.Load(); n != nil {
		r.met.queries.add(rolePrimary)
		return n, nil
	}
	return nil, ErrNoPrimary
}

// toPrimary routes a read to the primary because of why.
func (r *Router) toPrimary(why reason) (*node, func(lb.Outcome), error) {
	r.met.fallback(why)
	n, err := r.writer()
	return n, nil, err
}

// reader picks the node a read goes to. done is nil when it is the primary.
func (r *Router) reader(ctx context.Context) (*node, func(lb.Outcome), error) {
	var s *Session
	if b, _ := ctx.Value(ctxKey{}).(*binding); b != nil {
		if b.primary {
			return r.toPrimary(reasonMarked)
		}
		s = b.s
	}
	mode := r.opts.ReadYourWrites
	var need Position
	if s != nil && mode != RYWOff {
		if s.pinned(r.opts.Now) {
			return r.toPrimary(reasonPinned)
		}
		need = s.Position()
	}
	if mode == RYWCausalGlobal {
		if u := r.pinAll.Load(); u != 0 && r.opts.Now().UnixNano() < u {
			return r.toPrimary(reasonPinned)
		}
		if g := Position(r.global.Load()); g > need {
			need = g
		}
	}
	n, done, err := r.pool.Pick()
	if err != nil {
		return r.toPrimary(reasonNoReplica)
	}
	if need == 0 || !mode.causal() || Position(n.known.Load()) >= need {
		r.met.queries.add(roleReplica)
		return n, done, nil
	}
	if mode == RYWCausalFast || n.lagging.Load() {
		// A replica kept only by MinServing is too far behind to wait on.
		done(lb.Outcome{})
		return r.toPrimary(reasonNotCaughtUp)
	}
	why, err := r.wait(ctx, n, need)
	if why == reasonNone {
		r.met.queries.add(roleReplica)
		return n, done, nil
	}
	done(lb.Outcome{Err: err})
	if err != nil && unavailable(err) {
		r.markDown(n, err)
	}
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return r.toPrimary(why)
}

// retryReader picks the node for a read sent again because failed could not
// be reached: never failed again (a pick made before it left the rotation,
// or a monitor round that had probed it just before it failed).
func (r *Router) retryReader(ctx context.Context, failed *node) (*node, func(lb.Outcome), error) {
	n, done, err := r.reader(ctx)
	if err != nil || n != failed {
		return n, done, err
	}
	if done != nil {
		done(lb.Outcome{})
	}
	return r.toPrimary(reasonNoReplica)
}

// wait polls n until it has replayed need, up to WaitTimeout.
func (r *Router) wait(ctx context.Context, n *node, need Position) (reason, error) {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, r.opts.WaitTimeout)
	defer cancel()
	var t *time.Timer
	delay := 500 * time.Microsecond
	for {
		ok, err := r.reached(wctx, n.db, need)
		switch {
		case ok || Position(n.known.Load()) >= need:
			n.raise(need)
			r.met.waited(ctx, start, waitReached)
			return reasonNone, nil
		case err != nil && wctx.Err() == nil:
			r.met.waited(ctx, start, waitError)
			return reasonWaitError, err
		}
		if t == nil {
			t = time.NewTimer(delay)
			defer t.Stop()
		} else {
			t.Reset(delay)
		}
		select {
		case <-wctx.Done():
			r.met.waited(ctx, start, waitTimeout)
			return reasonWaitTimeout, nil
		case <-t.C:
		}
		delay = min(2*delay, 8*time.Millisecond)
	}
}

// finish reports a replica query's outcome; a replica that could not be
// reached leaves the rotation until its next good probe.
func (r *Router) finish(n *node, done func(lb.Outcome), err error) {
	done(lb.Outcome{Err: err})
	if err != nil && unavailable(err) {
		r.markDown(n, err)
	}
}

// wrote records a committed write on n in the context's session and, for
// RYWCausalGlobal, in the process.
func (r *Router) wrote(ctx context.Context, n *node) {
	mode := r.opts.ReadYourWrites
	if mode == RYWOff {
		return
	}
	s := FromContext(ctx)
	if mode == RYWTimePin {
		if s != nil {
			s.pin(r.opts.Now().Add(r.opts.Pin))
		}
		return
	}
	if s == nil && mode != RYWCausalGlobal {
		return
	}
	// The write committed: its position is wanted even if the caller's
	// context ends now, but not for longer than a probe.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.ProbeTimeout)
	p, err := r.writePosition(pctx, n.db)
	cancel()
	if err != nil {
		// Without the position, fall back to a time pin so the next reads
		// cannot be stale (unless the replica lags more than Pin).
		r.met.positionErrors.Add(1)
		until := r.opts.Now().Add(r.opts.Pin)
		if s != nil {
			s.pin(until)
		}
		if mode == RYWCausalGlobal {
			raiseInt64(&r.pinAll, until.UnixNano())
		}
		return
	}
	n.raise(p)
	if s != nil {
		s.observe(p)
	}
	if mode == RYWCausalGlobal {
		raiseUint64(&r.global, uint64(p))
	}
}

// Wrote records a write done outside ExecContext and a read-write Tx's
// Commit (a query through WithPrimary that wrote, a write on a Conn), so
// that the context's session reads it back. It costs one query to the
// primary in the causal modes.
func (r *Router) Wrote(ctx context.Context) {
	if n := r.primary.Load(); n != nil {
		r.wrote(ctx, n)
	}
}

func raiseUint64(a *atomic.Uint64, v uint64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func raiseInt64(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}
