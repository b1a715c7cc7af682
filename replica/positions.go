package replica

import (
	"context"
	"database/sql"
	"time"
)

// Position is a replication position: a point in the primary's write history,
// totally ordered (PostgreSQL: an LSN). The zero Position is "no position".
type Position uint64

// Role is what a node says it is.
type Role uint8

// Roles a node reports in [NodeState].
const (
	RoleUnknown Role = iota
	RolePrimary
	RoleReplica
)

// String returns "unknown", "primary" or "replica".
func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "primary"
	case RoleReplica:
		return "replica"
	default:
		return "unknown"
	}
}

// NodeState is one reading of a node's replication state.
type NodeState struct {
	Role Role
	// Timeline increases at every promotion (PostgreSQL: timeline ID); 0 if unknown.
	Timeline uint64
	// Position is, on a primary, its current write position; on a replica, its last
	// replayed position.
	Position Position
	// ReplayLag is, on a replica, the time since the last replayed transaction's commit,
	// as the node reports it (0 on a primary or if unknown).
	ReplayLag time.Duration
}

// Querier is what Positions needs from a connection: *sql.DB, *sql.Conn and *sql.Tx all satisfy it.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ Querier = (*sql.DB)(nil)
	_ Querier = (*sql.Conn)(nil)
	_ Querier = (*sql.Tx)(nil)
)

// Positions reads and changes replication state through SQL. Implementations are stateless and safe
// for concurrent use; they must work through PgBouncer in transaction mode (no session state between
// statements).
type Positions interface {
	// WritePosition returns the primary's current write position. Called after a write has
	// committed, on any connection to the primary, the result is at or past that write's commit.
	WritePosition(ctx context.Context, primary Querier) (Position, error)
	// State reads a node's role, timeline and position.
	State(ctx context.Context, node Querier) (NodeState, error)
	// Reached reports whether the replica has replayed up to p (one cheap query).
	Reached(ctx context.Context, replica Querier, p Position) (bool, error)
	// Promote asks a replica to become a primary and returns once it accepts writes or ctx ends.
	Promote(ctx context.Context, replica Querier) error
}
