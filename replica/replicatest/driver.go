package replicatest

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"modernc.org/sqlite"

	"github.com/ladder-go/ladder/replica"
)

// connector opens connections to one node of the pair. Each connection
// records what a transaction on the primary writes, and ships it at commit.
type connector struct{ n *node }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	inner, err := (&sqlite.Driver{}).Open(c.n.dsn)
	if err != nil {
		return nil, err
	}
	ic, ok := inner.(innerConn)
	if !ok {
		_ = inner.Close()
		return nil, errors.New("replicatest: the SQLite driver lacks context methods")
	}
	return &conn{n: c.n, inner: ic}, nil
}

func (c connector) Driver() driver.Driver { return &sqlite.Driver{} }

type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
}

// conn is one connection to a node. database/sql uses it from one goroutine
// at a time.
type conn struct {
	n         *node
	inner     innerConn
	queryOnly bool // PRAGMA query_only is on
	modeSet   bool
	itx       driver.Tx // the transaction in progress, if any
	log       []stmtLog // what it wrote so far
}

var (
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
)

// mode makes the connection read-only while its node is a replica, and
// writable once it is a primary (promotion happens under live connections).
func (c *conn) mode(ctx context.Context) error {
	want := !c.n.writable.Load()
	if c.modeSet && want == c.queryOnly {
		return nil
	}
	q := "PRAGMA query_only = OFF"
	if want {
		q = "PRAGMA query_only = ON"
	}
	if _, err := c.inner.ExecContext(ctx, q, nil); err != nil {
		return err
	}
	c.queryOnly, c.modeSet = want, true
	return nil
}

// Kinds of statement, by their first keyword.
const (
	kindWrite   = iota // recorded and replayed: anything not below (replaying a read is harmless; missing a write is not)
	kindRead           // SELECT, VALUES, EXPLAIN: cannot write
	kindSession        // PRAGMA, VACUUM, ATTACH, DETACH: the connection's own, run as they are and not shipped
	kindControl        // BEGIN, COMMIT, END, ROLLBACK (not ROLLBACK TO): refused, use BeginTx
)

// kind classifies a statement by its first keyword. SAVEPOINT, RELEASE and
// ROLLBACK TO are writes: replayed in order inside the replayed
// transaction, they undo on the replica what they undid on the primary.
func kind(q string) int {
	q = strings.TrimLeft(q, " \t\r\n(;")
	end := 0
	for end < len(q) && isIdent(q[end]) {
		end++
	}
	word := strings.ToLower(q[:end])
	switch word {
	case "select", "values", "explain":
		return kindRead
	case "pragma", "vacuum", "attach", "detach":
		return kindSession
	case "begin", "commit", "end":
		return kindControl
	case "rollback":
		rest := strings.ToLower(strings.TrimLeft(q[end:], " \t\r\n"))
		if strings.HasPrefix(rest, "to") || strings.HasPrefix(rest, "transaction to") {
			return kindWrite
		}
		return kindControl
	}
	return kindWrite
}

// errControl refuses transaction control sent as SQL text, which would
// escape the recording of what a transaction wrote.
var errControl = errors.New("replicatest: begin and end transactions with BeginTx, Commit and Rollback, not as SQL text (the pair ships what a transaction wrote at its Commit)")

func isIdent(b byte) bool {
	return b == '_' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func (c *conn) record(q string, args []driver.NamedValue) {
	cp := make([]driver.NamedValue, len(args))
	for i, a := range args {
		if b, ok := a.Value.([]byte); ok {
			a.Value = append([]byte(nil), b...)
		}
		cp[i] = a
	}
	c.log = append(c.log, stmtLog{query: q, args: cp})
}

func (c *conn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	ship, err := c.route(ctx, q)
	if err != nil {
		return nil, err
	}
	if !ship {
		return c.inner.ExecContext(ctx, q, args)
	}
	var res driver.Result
	err = c.shipped(ctx, q, args, func() (err error) {
		res, err = c.inner.ExecContext(ctx, q, args)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (c *conn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	ship, err := c.route(ctx, q)
	if err != nil {
		return nil, err
	}
	if !ship {
		return c.inner.QueryContext(ctx, q, args)
	}
	// An autocommit write that returns rows (INSERT … RETURNING) is read
	// whole before its transaction commits, then handed out.
	auto := c.itx == nil
	var rows driver.Rows
	err = c.shipped(ctx, q, args, func() (err error) {
		if rows, err = c.inner.QueryContext(ctx, q, args); err == nil && auto {
			rows, err = drain(rows)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// route reports whether q is a write the replica must replay (on a writable
// node), or an error for statements a connection may not run.
func (c *conn) route(ctx context.Context, q string) (ship bool, err error) {
	if err := c.mode(ctx); err != nil {
		return false, err
	}
	k := kind(q)
	if k == kindControl {
		return false, errControl
	}
	return c.n.writable.Load() && k == kindWrite, nil
}

// shipped runs a write through run and records it for the replica: with the
// connection's transaction if one is open, else as a transaction of its own.
func (c *conn) shipped(ctx context.Context, q string, args []driver.NamedValue, run func() error) error {
	if c.itx != nil {
		if err := run(); err != nil {
			return err
		}
		c.record(q, args)
		return nil
	}
	if _, err := c.BeginTx(ctx, driver.TxOptions{}); err != nil {
		return err
	}
	if err := run(); err != nil {
		return errors.Join(err, c.rollback())
	}
	c.record(q, args)
	return c.commit(ctx)
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.itx != nil {
		return nil, errors.New("replicatest: a transaction is already in progress on this connection")
	}
	if err := c.mode(ctx); err != nil {
		return nil, err
	}
	itx, err := c.inner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.itx, c.log = itx, nil
	return tx{c}, nil
}

func (c *conn) Begin() (driver.Tx, error) { return c.BeginTx(context.Background(), driver.TxOptions{}) }

// commit commits the transaction in progress. One that wrote on a primary
// takes the next position in the same transaction (which holds SQLite's
// write lock from then on) and, once committed, is shipped to the replica.
func (c *conn) commit(ctx context.Context) error {
	itx, log := c.itx, c.log
	c.itx, c.log = nil, nil
	if itx == nil {
		return errors.New("replicatest: no transaction in progress")
	}
	if len(log) == 0 || !c.n.writable.Load() {
		return itx.Commit()
	}
	pos, err := c.nextPosition(ctx)
	if err != nil {
		return errors.Join(err, itx.Rollback())
	}
	p := c.n.pair
	p.commitMu.Lock()
	defer p.commitMu.Unlock()
	if err := itx.Commit(); err != nil {
		return err
	}
	if c.n == p.primary {
		p.ship(entry{pos: pos, at: time.Now(), stmts: log})
	}
	return nil
}

func (c *conn) nextPosition(ctx context.Context) (replica.Position, error) {
	rows, err := c.inner.QueryContext(ctx, `UPDATE `+positionTable+` SET position = position + 1 RETURNING position`, nil)
	if err != nil {
		return 0, fmt.Errorf("replicatest: taking the next position: %w", err)
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, fmt.Errorf("replicatest: taking the next position: %w", err)
	}
	n, ok := v[0].(int64)
	if !ok || n <= 0 {
		return 0, fmt.Errorf("replicatest: position table holds %v", v[0])
	}
	return replica.Position(n), nil
}

func (c *conn) rollback() error {
	itx := c.itx
	c.itx, c.log = nil, nil
	if itx == nil {
		return nil
	}
	return itx.Rollback()
}

func (c *conn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	s, err := c.inner.PrepareContext(ctx, q) // checks the statement
	if err != nil {
		return nil, err
	}
	n := s.NumInput()
	if err := s.Close(); err != nil {
		return nil, err
	}
	return &stmt{c: c, q: q, n: n}, nil
}

func (c *conn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}

func (c *conn) Close() error {
	return errors.Join(c.rollback(), c.inner.Close())
}

func (c *conn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *conn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type tx struct{ c *conn }

func (t tx) Commit() error   { return t.c.commit(context.Background()) }
func (t tx) Rollback() error { return t.c.rollback() }

// stmt runs its statement through the connection, so a prepared write is
// recorded like any other.
type stmt struct {
	c *conn
	q string
	n int
}

func (s *stmt) Close() error  { return nil }
func (s *stmt) NumInput() int { return s.n }

func (s *stmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.q, args)
}

func (s *stmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.q, args)
}

func (s *stmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), named(args))
}

func (s *stmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), named(args))
}

func named(args []driver.Value) []driver.NamedValue {
	out := make([]driver.NamedValue, len(args))
	for i, v := range args {
		out[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return out
}

// bufRows are rows read in full before their transaction committed.
type bufRows struct {
	cols []string
	rows [][]driver.Value
}

func drain(r driver.Rows) (*bufRows, error) {
	defer r.Close()
	b := &bufRows{cols: r.Columns()}
	for {
		dest := make([]driver.Value, len(b.cols))
		err := r.Next(dest)
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		for i, v := range dest {
			if bs, ok := v.([]byte); ok {
				dest[i] = append([]byte(nil), bs...)
			}
		}
		b.rows = append(b.rows, dest)
	}
}

func (b *bufRows) Columns() []string { return b.cols }
func (b *bufRows) Close() error      { b.rows = nil; return nil }
func (b *bufRows) Next(dest []driver.Value) error {
	if len(b.rows) == 0 {
		return io.EOF
	}
	copy(dest, b.rows[0])
	b.rows = b.rows[1:]
	return nil
}
