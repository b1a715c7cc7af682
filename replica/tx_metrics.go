package replica

import (
	"context"
	"database/sql"
)

// ExecContext runs a statement in the transaction, recorded in
// db.client.operation.duration like the router's own statements.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	op, t := operation(query), tx.r.met.db.start()
	res, err := tx.Tx.ExecContext(ctx, query, args...)
	tx.r.met.db.done(ctx, tx.n, op, t, err)
	return res, err
}

// QueryContext runs a query in the transaction, recorded like ExecContext.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	op, t := operation(query), tx.r.met.db.start()
	rows, err := tx.Tx.QueryContext(ctx, query, args...)
	tx.r.met.db.done(ctx, tx.n, op, t, err)
	return rows, err
}

// QueryRowContext runs a query expected to return at most one row in the
// transaction, recorded like ExecContext.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	op, t := operation(query), tx.r.met.db.start()
	row := tx.Tx.QueryRowContext(ctx, query, args...)
	tx.r.met.db.done(ctx, tx.n, op, t, row.Err())
	return row
}
