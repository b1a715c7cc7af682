package replica

import (
	"context"
	"database/sql"
)

// ExecContext runs a statement on the primary and, once it succeeded,
// records it in the context's session: its position in the causal modes
// (one more query to the primary), the time in RYWTimePin. Without a
// session in ctx nothing is recorded and no query added, except in
// RYWCausalGlobal, which records every write's position for the process.
func (r *Router) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	n, err := r.writer()
	if err != nil {
		return nil, err
	}
	op, t := operation(query), r.met.db.start()
	res, err := n.db.ExecContext(ctx, query, args...)
	r.met.db.done(ctx, n, op, t, err)
	if err == nil {
		r.wrote(ctx, n)
	}
	return res, err
}

// QueryContext runs a query on a replica (see the package doc for which
// one) or, in a context from WithPrimary, on the primary. The router does
// not parse SQL: a query that writes must carry WithPrimary. A replica that
// cannot be reached leaves the rotation and the query is sent once more,
// to another replica or the primary.
func (r *Router) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	n, done, err := r.reader(ctx)
	if err != nil {
		return nil, err
	}
	op, t := operation(query), r.met.db.start()
	rows, err := n.db.QueryContext(ctx, query, args...)
	r.met.db.done(ctx, n, op, t, err)
	if done == nil {
		return rows, err
	}
	r.finish(n, done, err)
	if err == nil || !unavailable(err) || ctx.Err() != nil {
		return rows, err
	}
	if n, done, err = r.retryReader(ctx, n); err != nil {
		return nil, err
	}
	t = r.met.db.start()
	rows, err = n.db.QueryContext(ctx, query, args...)
	r.met.db.done(ctx, n, op, t, err)
	if done != nil {
		r.finish(n, done, err)
	}
	return rows, err
}

// QueryRowContext is QueryContext for a query expected to return at most
// one row.
func (r *Router) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	n, done, err := r.reader(ctx)
	if err != nil {
		n = r.nodes[0] // only to build a *sql.Row carrying err
		return n.db.QueryRowContext(errContext(ctx, err), query, args...)
	}
	op, t := operation(query), r.met.db.start()
	row := n.db.QueryRowContext(ctx, query, args...)
	err = row.Err()
	r.met.db.done(ctx, n, op, t, err)
	if done == nil {
		return row
	}
	r.finish(n, done, err)
	if err == nil || !unavailable(err) || ctx.Err() != nil {
		return row
	}
	if n, done, err = r.retryReader(ctx, n); err != nil {
		return r.nodes[0].db.QueryRowContext(errContext(ctx, err), query, args...)
	}
	t = r.met.db.start()
	row = n.db.QueryRowContext(ctx, query, args...)
	r.met.db.done(ctx, n, op, t, row.Err())
	if done != nil {
		r.finish(n, done, row.Err())
	}
	return row
}

// errContext is a cancelled context whose Err is err: database/sql then
// returns a *sql.Row carrying err without touching the database.
func errContext(ctx context.Context, err error) context.Context {
	c, cancel := context.WithCancelCause(ctx)
	cancel(err)
	return errCtx{c, err}
}

type errCtx struct {
	context.Context
	err error
}

func (c errCtx) Err() error { return c.err }

// Tx is a transaction on one node. A read-write transaction runs on the
// primary and its Commit records the write's position in the session of the
// context BeginTx got; a read-only one may run on a replica.
type Tx struct {
	*sql.Tx
	r     *Router
	ctx   context.Context
	n     *node
	write bool
}

// BeginTx starts a transaction. A read-only one (opts.ReadOnly) is routed
// as a read, unless it asks for serializable isolation, which PostgreSQL's
// hot standby refuses: that one runs on the primary. Every other runs on the
// primary.
func (r *Router) BeginTx(ctx context.Context, opts *sql.TxOptions) (*Tx, error) {
	if opts != nil && opts.ReadOnly && opts.Isolation != sql.LevelSerializable {
		n, done, err := r.reader(ctx)
		if err != nil {
			return nil, err
		}
		tx, err := n.db.BeginTx(ctx, opts)
		if done != nil {
			r.finish(n, done, err)
			if err != nil && unavailable(err) && ctx.Err() == nil {
				if n, err = r.writer(); err != nil {
					return nil, err
				}
				tx, err = n.db.BeginTx(ctx, opts)
			}
		}
		if err != nil {
			return nil, err
		}
		return &Tx{Tx: tx, r: r, ctx: ctx, n: n}, nil
	}
	n, err := r.writer()
	if err != nil {
		return nil, err
	}
	tx, err := n.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, r: r, ctx: ctx, n: n, write: opts == nil || !opts.ReadOnly}, nil
}

// Commit commits the transaction; for a read-write one it then records the
// position of its commit in the session.
func (tx *Tx) Commit() error {
	if err := tx.Tx.Commit(); err != nil {
		return err
	}
	if tx.write {
		tx.r.wrote(tx.ctx, tx.n)
	}
	return nil
}

// Conn returns a dedicated connection to the primary, for session-level
// work (advisory locks, temporary tables). Writes on it are not recorded:
// follow them with [Router.Wrote].
func (r *Router) Conn(ctx context.Context) (*sql.Conn, error) {
	n, err := r.writer()
	if err != nil {
		return nil, err
	}
	return n.db.Conn(ctx)
}
