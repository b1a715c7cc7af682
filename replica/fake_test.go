package replica_test

// An in-memory fake of a primary and its replicas behind database/sql: each
// node keeps a history of writes (key, value); a replica holds a prefix of
// its primary's history and advances only when the test ships it more
// (Ship), so every stale read is real. The fake Positions reads positions
// through SQL-like commands on the same connections, so a node that is down
// fails its probes as it fails its queries.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ladder-go/ladder/replica"
)

type write struct{ k, v string }

type fakeNode struct {
	name      string
	role      replica.Role
	timeline  uint64
	hist      []write
	source    string        // the node a replica replays from
	lag       time.Duration // ReplayLag it reports
	down      bool          // refuses connections and fails every statement
	stall     bool          // every statement blocks until its context ends
	slowState time.Duration // STATE answers this late, as of when it was asked
	reads     int           // GET statements served
	writes    int           // SET statements applied
}

type cluster struct {
	mu    sync.Mutex
	nodes map[string]*fakeNode
	dbs   map[string]*sql.DB
}

// newCluster returns a primary "primary" and replicas named as given, all
// at position 0 on timeline 1.
func newCluster(t testing.TB, replicas ...string) *cluster {
	c := openCluster(replicas...)
	t.Cleanup(c.close)
	return c
}

// openCluster is newCluster outside a test; close it when done.
func openCluster(replicas ...string) *cluster {
	c := &cluster{nodes: map[string]*fakeNode{}, dbs: map[string]*sql.DB{}}
	c.add("primary", replica.RolePrimary, "")
	for _, r := range replicas {
		c.add(r, replica.RoleReplica, "primary")
	}
	return c
}

func (c *cluster) close() {
	for _, db := range c.dbs {
		_ = db.Close()
	}
}

func (c *cluster) add(name string, role replica.Role, source string) {
	c.nodes[name] = &fakeNode{name: name, role: role, timeline: 1, source: source}
	c.dbs[name] = sql.OpenDB(&connector{c: c, name: name})
}

func (c *cluster) db(name string) *sql.DB { return c.dbs[name] }

func (c *cluster) replicas(names ...string) []replica.Replica {
	var out []replica.Replica
	for _, n := range names {
		out = append(out, replica.Replica{Name: n, DB: c.dbs[n]})
	}
	return out
}

// do runs f on a node under the cluster's lock.
func (c *cluster) do(name string, f func(n *fakeNode)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c.nodes[name])
}

// ship lets a replica replay everything its source has.
func (c *cluster) ship(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[name]
	src := c.nodes[n.source]
	if len(n.hist) < len(src.hist) {
		n.hist = append(n.hist, src.hist[len(n.hist):]...)
	}
}

func (c *cluster) counts(name string) (reads, writes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[name].reads, c.nodes[name].writes
}

func (c *cluster) maxTimeline() uint64 {
	var m uint64
	for _, n := range c.nodes {
		m = max(m, n.timeline)
	}
	return m
}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// exec runs one command on a node; it returns the rows of a query.
func (c *cluster) exec(ctx context.Context, name, cmd string, args []driver.NamedValue) ([]string, [][]driver.Value, error) {
	c.mu.Lock()
	n := c.nodes[name]
	if n.stall {
		c.mu.Unlock()
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	if n.down {
		c.mu.Unlock()
		return nil, nil, errRefused
	}
	if cmd == "STATE" && n.slowState > 0 {
		d := n.slowState
		c.mu.Unlock()
		time.Sleep(d)
		c.mu.Lock()
	}
	defer c.mu.Unlock()
	arg := func(i int) driver.Value { return args[i].Value }
	switch cmd {
	case "SET":
		if n.role != replica.RolePrimary {
			return nil, nil, errors.New("fake: cannot execute SET in a read-only transaction")
		}
		n.hist = append(n.hist, write{arg(0).(string), arg(1).(string)})
		n.writes++
		return nil, nil, nil
	case "GET":
		n.reads++
		k := arg(0).(string)
		for i := len(n.hist) - 1; i >= 0; i-- {
			if n.hist[i].k == k {
				return []string{"v"}, [][]driver.Value{{n.hist[i].v}}, nil
			}
		}
		return []string{"v"}, nil, nil
	case "POS":
		return []string{"pos"}, [][]driver.Value{{int64(len(n.hist))}}, nil
	case "STATE":
		return []string{"role", "tl", "pos", "lag"}, [][]driver.Value{{int64(n.role), int64(n.timeline), int64(len(n.hist)), int64(n.lag)}}, nil
	case "REACHED":
		return []string{"ok"}, [][]driver.Value{{int64(len(n.hist)) >= arg(0).(int64)}}, nil
	case "PROMOTE":
		if n.role != replica.RoleReplica {
			return nil, nil, errors.New("fake: not in recovery")
		}
		n.role, n.timeline, n.source = replica.RolePrimary, c.maxTimeline()+1, ""
		for _, o := range c.nodes {
			if o.source != "" && o != n {
				o.source = name
			}
		}
		return []string{"ok"}, [][]driver.Value{{true}}, nil
	}
	return nil, nil, fmt.Errorf("fake: unknown command %q", cmd)
}

// fakePositions implements replica.Positions with the fake's commands.
type fakePositions struct{}

func (fakePositions) WritePosition(ctx context.Context, q replica.Querier) (replica.Position, error) {
	var p int64
	err := q.QueryRowContext(ctx, "POS").Scan(&p)
	return replica.Position(p), err
}

func (fakePositions) State(ctx context.Context, q replica.Querier) (replica.NodeState, error) {
	var role, tl, pos, lag int64
	if err := q.QueryRowContext(ctx, "STATE").Scan(&role, &tl, &pos, &lag); err != nil {
		return replica.NodeState{}, err
	}
	return replica.NodeState{Role: replica.Role(role), Timeline: uint64(tl), Position: replica.Position(pos), ReplayLag: time.Duration(lag)}, nil
}

func (fakePositions) Reached(ctx context.Context, q replica.Querier, p replica.Position) (bool, error) {
	var ok bool
	err := q.QueryRowContext(ctx, "REACHED", int64(p)).Scan(&ok)
	return ok, err
}

func (fakePositions) Promote(ctx context.Context, q replica.Querier) error {
	var ok bool
	return q.QueryRowContext(ctx, "PROMOTE").Scan(&ok)
}

var _ replica.Positions = fakePositions{}

// The driver.

type connector struct {
	c    *cluster
	name string
}

func (k *connector) Connect(ctx context.Context) (driver.Conn, error) {
	var down bool
	k.c.do(k.name, func(n *fakeNode) { down = n.down })
	if down {
		return nil, errRefused
	}
	return &conn{k: k}, nil
}

func (k *connector) Driver() driver.Driver { return fakeDriver{} }

type fakeDriver struct{}

func (fakeDriver) Open(string) (driver.Conn, error) { return nil, errors.New("fake: use OpenDB") }

type conn struct {
	k  *connector
	tx *tx
}

func (c *conn) Prepare(query string) (driver.Stmt, error) { return &stmt{c: c, q: query}, nil }
func (c *conn) Close() error                              { return nil }
func (c *conn) Begin() (driver.Tx, error)                 { return c.BeginTx(context.Background(), driver.TxOptions{}) }

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if _, _, err := c.k.c.exec(ctx, c.k.name, "POS", nil); err != nil {
		return nil, driver.ErrBadConn
	}
	c.tx = &tx{c: c}
	return c.tx, nil
}

func (c *conn) Ping(ctx context.Context) error {
	if _, _, err := c.k.c.exec(ctx, c.k.name, "POS", nil); err != nil {
		return driver.ErrBadConn
	}
	return nil
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.tx != nil && query == "SET" {
		c.tx.buf = append(c.tx.buf, args)
		return driver.RowsAffected(1), nil
	}
	_, _, err := c.k.c.exec(ctx, c.k.name, query, args)
	return driver.RowsAffected(1), err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cols, vals, err := c.k.c.exec(ctx, c.k.name, query, args)
	if err != nil {
		return nil, err
	}
	return &rows{cols: cols, vals: vals}, nil
}

type tx struct {
	c   *conn
	buf [][]driver.NamedValue
}

func (t *tx) Commit() error {
	t.c.tx = nil
	for _, a := range t.buf {
		if _, _, err := t.c.k.c.exec(context.Background(), t.c.k.name, "SET", a); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) Rollback() error { t.c.tx = nil; return nil }

type stmt struct {
	c *conn
	q string
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return -1 }
func (s *stmt) Exec([]driver.Value) (driver.Result, error) {
	return nil, errors.New("fake: use ExecContext")
}
func (s *stmt) Query([]driver.Value) (driver.Rows, error) {
	return nil, errors.New("fake: use QueryContext")
}
func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.q, args)
}
func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.q, args)
}

type rows struct {
	cols []string
	vals [][]driver.Value
}

func (r *rows) Columns() []string { return r.cols }
func (r *rows) Close() error      { return nil }
func (r *rows) Next(dest []driver.Value) error {
	if len(r.vals) == 0 {
		return io.EOF
	}
	copy(dest, r.vals[0])
	r.vals = r.vals[1:]
	return nil
}
