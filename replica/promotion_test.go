package replica_test

import (
	"context"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

// promoteThenVanish promotes like the fake, then takes the node down, as a
// node that crashes right after its promotion (or whose probes time out
// while it finishes recovery).
type promoteThenVanish struct {
	fakePositions
	c *cluster
}

func (p promoteThenVanish) Promote(ctx context.Context, q replica.Querier) error {
	if err := p.fakePositions.Promote(ctx, q); err != nil {
		return err
	}
	for name, db := range p.c.dbs {
		if db == q {
			p.c.do(name, func(n *fakeNode) { n.down = true })
		}
	}
	return nil
}

// The coordinator promotes one replica at a time: while the promoted node
// does not answer yet, it does not promote a second one (two primaries).
func TestCoordinatorPromotesOneReplicaAtATime(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1", "r2")
		r := newRouter(t, c, replica.Options{Positions: promoteThenVanish{c: c}, Failover: replica.FailoverCoordinate,
			FailoverAfter: 3, ProbeInterval: time.Second}, "r1", "r2")
		set(t, context.Background(), r, "k", "v")
		c.ship("r2")
		c.do("primary", func(n *fakeNode) { n.down = true })
		for range 3 {
			nextRound(time.Second) // the third failed round promotes r2, which vanishes
		}
		nextRound(time.Second)
		c.do("r2", func(n *fakeNode) { n.down = false })
		nextRound(time.Second)
		var roles []replica.Role
		c.mu.Lock()
		roles = append(roles, c.nodes["r1"].role, c.nodes["r2"].role)
		c.mu.Unlock()
		if roles[0] != replica.RoleReplica || roles[1] != replica.RolePrimary {
			t.Fatalf("roles r1 %v, r2 %v: want only r2 promoted", roles[0], roles[1])
		}
		if st := r.Status(); !st[2].Writer {
			t.Fatalf("status %+v: want r2 taking writes once it answers", st)
		}
	})
}

// The monitor probes on a connection of its own: an application that holds
// every other connection of the primary's pool (slow queries, a leak) makes
// no probe time out, so the coordinator does not promote a replica of a
// primary that is only busy.
func TestExhaustedPoolDoesNotLookLikeADeadPrimary(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		c.db("primary").SetMaxOpenConns(2)
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, Failover: replica.FailoverCoordinate,
			FailoverAfter: 3, ProbeInterval: time.Second, ProbeTimeout: 100 * time.Millisecond}, "r1")
		for range 2 { // take what the pool has left
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			if conn, err := c.db("primary").Conn(ctx); err == nil {
				defer conn.Close()
			}
			cancel()
		}
		for range 5 {
			nextRound(time.Second)
		}
		c.mu.Lock()
		role := c.nodes["r1"].role
		c.mu.Unlock()
		if role != replica.RoleReplica {
			t.Fatal("the coordinator promoted a replica of a primary whose pool was only exhausted")
		}
		if !r.Status()[0].Writer {
			t.Fatal("writes moved away from a healthy primary")
		}
	})
}
