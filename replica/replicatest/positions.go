package replicatest

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ladder-go/ladder/replica"
)

const stateSQL = `SELECT node, role, timeline, position FROM ` + positionTable

// row is a node's position table, read through the caller's connection.
type row struct {
	node, role         string
	timeline, position int64
}

func (p *Pair) read(ctx context.Context, q replica.Querier) (row, error) {
	var r row
	err := q.QueryRowContext(ctx, stateSQL).Scan(&r.node, &r.role, &r.timeline, &r.position)
	if err == nil && r.node != p.primary.name && r.node != p.replica.name {
		err = fmt.Errorf("%w: node %q", ErrNotPair, r.node)
	}
	if err != nil && strings.Contains(err.Error(), "no such table: "+positionTable) {
		err = fmt.Errorf("%w: %w", ErrNotPair, err)
	}
	if err != nil {
		return row{}, fmt.Errorf("replicatest: reading the node's position: %w", ctxErr(ctx, err))
	}
	return r, nil
}

// ctxErr returns ctx's error if it has ended (the query was cancelled), err
// otherwise.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}

// WritePosition returns the position of the last transaction the primary
// committed: every write committed before the call is at or before it.
// On the replica it returns an error wrapping [ErrNotPrimary].
func (p *Pair) WritePosition(ctx context.Context, primary replica.Querier) (replica.Position, error) {
	r, err := p.read(ctx, primary)
	if err != nil {
		return 0, err
	}
	if r.role != "primary" {
		return 0, fmt.Errorf("%w: it is the %s", ErrNotPrimary, r.node)
	}
	return replica.Position(r.position), nil
}

// State reads a node's role, timeline and position. A replica's ReplayLag is
// how long the oldest transaction it has not replayed has been committed (0
// when it has replayed everything).
func (p *Pair) State(ctx context.Context, node replica.Querier) (replica.NodeState, error) {
	r, err := p.read(ctx, node)
	if err != nil {
		return replica.NodeState{}, err
	}
	st := replica.NodeState{Role: replica.RolePrimary, Timeline: uint64(r.timeline), Position: replica.Position(r.position)}
	if r.role == "replica" {
		st.Role = replica.RoleReplica
		p.mu.Lock()
		if len(p.pending) > 0 && !p.promoted {
			st.ReplayLag = max(time.Since(p.pending[0].at), time.Nanosecond)
		}
		p.mu.Unlock()
	}
	return st, nil
}

// Reached reports whether the node has replayed (or, as a primary,
// committed) position pos.
func (p *Pair) Reached(ctx context.Context, node replica.Querier, pos replica.Position) (bool, error) {
	if pos > math.MaxInt64 {
		return false, nil
	}
	var ok bool
	if err := node.QueryRowContext(ctx, `SELECT position >= ? FROM `+positionTable, int64(pos)).Scan(&ok); err != nil {
		return false, fmt.Errorf("replicatest: reading the node's position: %w", ctxErr(ctx, err))
	}
	return ok, nil
}

// Promote makes the replica a primary on the next timeline, at once: what it
// has not replayed yet is lost (as asynchronous replication loses it), it
// replicates nothing more, and it accepts writes. The old primary stays a
// primary on its old timeline. Promoting a primary does nothing.
func (p *Pair) Promote(ctx context.Context, node replica.Querier) error {
	r, err := p.read(ctx, node)
	if err != nil {
		return err
	}
	if r.role == "primary" {
		return nil
	}
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrClosed
	}
	p.promoted, p.pending = true, nil
	p.notifyLocked()
	p.mu.Unlock()
	_, err = p.applier.(driver.ExecerContext).ExecContext(ctx,
		`UPDATE `+positionTable+` SET role = 'primary', timeline = timeline + 1`, nil)
	if err != nil {
		return fmt.Errorf("replicatest: promoting the replica: %w", err)
	}
	p.replica.writable.Store(true)
	return nil
}
