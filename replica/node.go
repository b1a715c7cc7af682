package replica

import (
	"database/sql"
	"sync/atomic"
	"time"
)

// node is one database server the router knows, whatever its role.
type node struct {
	idx    int
	name   string
	db     *sql.DB
	zone   string
	weight int
	dbm    *nodeDB // attribute sets of its database metrics

	// Written by the monitor, read by queries and metrics.
	role     atomic.Uint32 // Role
	timeline atomic.Uint64
	known    atomic.Uint64 // a position the node is known to have replayed (or written)
	lag      atomic.Int64  // replay lag, nanoseconds; -1 if unknown
	lagBytes atomic.Uint64
	serving  atomic.Bool   // in the read rotation
	lagging  atomic.Bool   // over the lag limits, serving only to keep MinServing
	failures atomic.Uint64 // queries that found it unreachable (markDown)
	probed   atomic.Bool   // answered at least one probe
}

// raise records that the node has replayed at least p.
func (n *node) raise(p Position) {
	for {
		old := n.known.Load()
		if uint64(p) <= old || n.known.CompareAndSwap(old, uint64(p)) {
			return
		}
	}
}

func (n *node) state() NodeState {
	return NodeState{
		Role:      Role(n.role.Load()),
		Timeline:  n.timeline.Load(),
		Position:  Position(n.known.Load()),
		ReplayLag: time.Duration(n.lag.Load()),
	}
}
