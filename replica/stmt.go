package replica

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/ladder-go/ladder/lb"
)

// Stmt is a prepared statement routed like the router's methods: ExecContext
// on the primary, QueryContext and QueryRowContext as reads. It is prepared on
// a node the first time it runs there.
type Stmt struct {
	r     *Router
	query string
	op    int        // operation(query)
	mu    sync.Mutex // serializes preparing
	on    []atomic.Pointer[sql.Stmt]
}

// PrepareContext prepares query on the primary, reporting its errors there,
// and on the other nodes when first used on them.
func (r *Router) PrepareContext(ctx context.Context, query string) (*Stmt, error) {
	s := &Stmt{r: r, query: query, op: operation(query), on: make([]atomic.Pointer[sql.Stmt], len(r.nodes))}
	n, err := r.writer()
	if err != nil {
		return nil, err
	}
	if _, err := s.stmt(ctx, n); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stmt) stmt(ctx context.Context, n *node) (*sql.Stmt, error) {
	if st := s.on[n.idx].Load(); st != nil {
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.on[n.idx].Load(); st != nil {
		return st, nil
	}
	st, err := n.db.PrepareContext(ctx, s.query)
	if err != nil {
		return nil, err
	}
	s.on[n.idx].Store(st)
	return st, nil
}

// ExecContext runs the statement on the primary and records the write.
func (s *Stmt) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	n, err := s.r.writer()
	if err != nil {
		return nil, err
	}
	st, err := s.stmt(ctx, n)
	if err != nil {
		return nil, err
	}
	t := s.r.met.db.start()
	res, err := st.ExecContext(ctx, args...)
	s.r.met.db.done(ctx, n, s.op, t, err)
	if err == nil {
		s.r.wrote(ctx, n)
	}
	return res, err
}

// QueryContext runs the statement as a read. Like Router.QueryContext, a
// read that finds its replica unreachable is sent once more, elsewhere.
func (s *Stmt) QueryContext(ctx context.Context, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	err := s.read(ctx, func(st *sql.Stmt) error {
		var err error
		rows, err = st.QueryContext(ctx, args...)
		return err
	})
	return rows, err
}

// QueryRowContext runs the statement as a read expected to return at most
// one row, sent once more elsewhere if its replica is unreachable.
func (s *Stmt) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	var row *sql.Row
	err := s.read(ctx, func(st *sql.Stmt) error {
		row = st.QueryRowContext(ctx, args...)
		return row.Err()
	})
	if row == nil {
		return s.r.nodes[0].db.QueryRowContext(errContext(ctx, err), s.query)
	}
	return row
}

// read runs q on the statement prepared on the node a read goes to, twice
// at most: again on another node if the first was unreachable.
func (s *Stmt) read(ctx context.Context, q func(*sql.Stmt) error) error {
	var err error
	var failed *node
	for try := 0; try < 2; try++ {
		var n *node
		var done func(lb.Outcome)
		if try == 0 {
			n, done, err = s.r.reader(ctx)
		} else {
			n, done, err = s.r.retryReader(ctx, failed)
		}
		if err != nil {
			return err
		}
		failed = n
		var st *sql.Stmt
		if st, err = s.stmt(ctx, n); err == nil {
			t := s.r.met.db.start()
			err = q(st)
			s.r.met.db.done(ctx, n, s.op, t, err)
		}
		if done == nil {
			return err
		}
		s.r.finish(n, done, err)
		if err == nil || !unavailable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// Close closes the statement on every node it was prepared on.
func (s *Stmt) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for i := range s.on {
		if st := s.on[i].Swap(nil); st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}
