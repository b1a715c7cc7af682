package pgreplica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ladder-go/ladder/replica"
)

// Errors returned by this package, checked with errors.Is.
var (
	// ErrInvalidLSN is returned by ParseLSN for text that is not a pg_lsn.
	ErrInvalidLSN = errors.New("pgreplica: invalid LSN")
	// ErrNotPrimary is returned by WritePosition on a node in recovery (a standby).
	ErrNotPrimary = errors.New("pgreplica: node is not a primary")
)

// Positions implements [replica.Positions] for PostgreSQL 13 and later
// (tested on 15), through any database/sql driver (the pgx stdlib driver
// "pgx", lib/pq).
// Every method is one statement with no session state, so it works
// through PgBouncer in transaction mode. The zero value is ready to use and
// safe for concurrent use.
type Positions struct{}

var _ replica.Positions = Positions{}

const (
	writePositionSQL = `SELECT r, CASE WHEN r THEN NULL ELSE pg_current_wal_lsn()::text END
FROM pg_is_in_recovery() AS r`

	// On a primary the timeline is the one it inserts WAL on: the first eight hex
	// digits of the current WAL file's name (pg_control_checkpoint() would show the
	// old timeline until the first checkpoint after a promotion). On a standby it
	// is the timeline the WAL receiver streams, or, with no receiver (its primary
	// is gone, or the role may not read pg_stat_wal_receiver), the timeline of
	// its last restartpoint. The lag is 0 once the standby has replayed all it
	// received: an idle primary commits nothing, and the age of its last commit
	// is not lag.
	stateSQL = `SELECT r,
  (CASE WHEN r THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text,
  CASE WHEN r THEN coalesce((SELECT received_tli FROM pg_stat_wal_receiver), (pg_control_checkpoint()).timeline_id)::bigint
       ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END,
  CASE WHEN r AND pg_last_wal_receive_lsn() IS DISTINCT FROM pg_last_wal_replay_lsn()
       THEN greatest(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8
       ELSE 0 END
FROM pg_is_in_recovery() AS r`

	// A node that left recovery (promoted) has everything it replayed and
	// everything it wrote since: its write position counts.
	reachedSQL = `SELECT CASE WHEN pg_is_in_recovery() THEN coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)
  ELSE pg_current_wal_lsn() >= $1::text::pg_lsn END`

	promoteSQL   = `SELECT CASE WHEN pg_is_in_recovery() THEN pg_promote(true, $1::int) ELSE true END`
	isPrimarySQL = `SELECT NOT pg_is_in_recovery()`
)

// WritePosition returns the primary's current WAL write position
// (pg_current_wal_lsn()). After a COMMIT has returned, it is at or past
// that commit's record with synchronous_commit on, local, remote_write or
// remote_apply (the default is on): COMMIT returns only once its record is
// written. With synchronous_commit = off, COMMIT returns before its record
// is written, and a position read right after it may precede the commit by
// up to wal_writer_delay: read-your-writes needs synchronous_commit other
// than off for the transactions it tracks. On a standby it returns an error
// wrapping [ErrNotPrimary].
func (Positions) WritePosition(ctx context.Context, primary replica.Querier) (replica.Position, error) {
	var (
		inRecovery bool
		lsn        sql.NullString
	)
	if err := primary.QueryRowContext(ctx, writePositionSQL).Scan(&inRecovery, &lsn); err != nil {
		return 0, wrap(ctx, "reading the write position", err)
	}
	if inRecovery {
		return 0, fmt.Errorf("%w: reading the write position: pg_is_in_recovery() is true", ErrNotPrimary)
	}
	return parseNull(lsn, "pg_current_wal_lsn()")
}

// State reads a node's role (pg_is_in_recovery()), timeline and position:
// on a primary its write position (pg_current_wal_lsn()) and the timeline
// it writes on; on a standby its replay position (pg_last_wal_replay_lsn(),
// 0 before it has replayed anything), the timeline it receives, and its
// replay lag: now() − pg_last_xact_replay_timestamp() while it has received
// WAL it has not replayed, else 0.
func (Positions) State(ctx context.Context, node replica.Querier) (replica.NodeState, error) {
	var (
		inRecovery bool
		lsn        sql.NullString
		timeline   sql.NullInt64
		lag        sql.NullFloat64
	)
	if err := node.QueryRowContext(ctx, stateSQL).Scan(&inRecovery, &lsn, &timeline, &lag); err != nil {
		return replica.NodeState{}, wrap(ctx, "reading the node state", err)
	}
	pos, err := parseNull(lsn, "the node's WAL position")
	if err != nil {
		return replica.NodeState{}, err
	}
	st := replica.NodeState{Role: replica.RolePrimary, Position: pos}
	if inRecovery {
		st.Role = replica.RoleReplica
		if lag.Valid && lag.Float64 > 0 && !math.IsInf(lag.Float64, 0) {
			st.ReplayLag = time.Duration(math.Min(lag.Float64, math.MaxInt64/float64(time.Second)) * float64(time.Second))
		}
	}
	if timeline.Valid && timeline.Int64 > 0 {
		st.Timeline = uint64(timeline.Int64)
	}
	return st, nil
}

// Reached reports whether the node has replayed WAL up to p
// (pg_last_wal_replay_lsn() >= p). A node out of recovery (a primary, or a
// promoted standby) has reached p when its write position has.
func (Positions) Reached(ctx context.Context, node replica.Querier, p replica.Position) (bool, error) {
	var ok bool
	if err := node.QueryRowContext(ctx, reachedSQL, FormatLSN(p)).Scan(&ok); err != nil {
		return false, wrap(ctx, "reading the replay position", err)
	}
	return ok, nil
}

// maxPromoteWait is pg_promote's longest wait for one call (its default).
const maxPromoteWait = 60

// Promote promotes a standby (pg_promote(true, n), which needs a superuser
// or a role granted EXECUTE on pg_promote) and returns once it has left
// recovery and accepts writes, or when ctx ends (ctx.Err(), wrapped). n is
// the time left before ctx's deadline, at most 60 s; past it, Promote keeps
// asking whether the node has left recovery until ctx ends. A promotion the
// server was asked for goes on after ctx ends. Promoting a node that is
// already a primary returns nil at once.
func (Positions) Promote(ctx context.Context, node replica.Querier) error {
	wait := maxPromoteWait
	if dl, ok := ctx.Deadline(); ok {
		wait = int(math.Ceil(time.Until(dl).Seconds()))
		wait = max(1, min(wait, maxPromoteWait))
	}
	var done bool
	if err := node.QueryRowContext(ctx, promoteSQL, wait).Scan(&done); err != nil {
		return wrap(ctx, "promoting the node (pg_promote)", err)
	}
	for !done {
		select {
		case <-ctx.Done():
			return fmt.Errorf("pgreplica: promoting the node: still in recovery: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if err := node.QueryRowContext(ctx, isPrimarySQL).Scan(&done); err != nil {
			return wrap(ctx, "waiting for the promotion", err)
		}
	}
	return nil
}

// wrap prefixes err, and returns ctx's error instead when ctx has ended (a
// cancelled query is the caller's doing, not a failure of the node).
func wrap(ctx context.Context, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("pgreplica: %s: %w", what, cerr)
	}
	return fmt.Errorf("pgreplica: %s: %w", what, err)
}

// parseNull parses a pg_lsn read as text; NULL is position 0.
func parseNull(s sql.NullString, what string) (replica.Position, error) {
	if !s.Valid {
		return 0, nil
	}
	p, err := ParseLSN(s.String)
	if err != nil {
		return 0, fmt.Errorf("%w (from %s)", err, what)
	}
	return p, nil
}
