package replica_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

func serving(r *replica.Router) map[string]bool {
	out := map[string]bool{}
	for _, s := range r.Status() {
		if s.Serving {
			out[s.Name] = true
		}
	}
	return out
}

// Replicas over MaxLag leave the rotation, but at least MinServing of them
// stay, the least lagging (Vitess: lags 5/10/15/120 s keep the first three).
func TestLagFilterKeepsMinServing(t *testing.T) {
	for _, tc := range []struct {
		lags       []time.Duration
		minServing int
		want       string
	}{
		{[]time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 120 * time.Second}, 0, "map[a:true b:true c:true]"},
		{[]time.Duration{40 * time.Second, 50 * time.Second, 35 * time.Second, 120 * time.Second}, 2, "map[a:true c:true]"},
		{[]time.Duration{40 * time.Second, 50 * time.Second, 35 * time.Second, 120 * time.Second}, 0, "map[c:true]"},
		{[]time.Duration{40 * time.Second, 50 * time.Second, 35 * time.Second, 120 * time.Second}, -1, "map[]"},
	} {
		t.Run(fmt.Sprint(tc.lags, tc.minServing), func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				c := newCluster(t, "a", "b", "c", "d")
				for i, n := range []string{"a", "b", "c", "d"} {
					c.do(n, func(n *fakeNode) { n.lag = tc.lags[i] })
				}
				c.do("primary", func(n *fakeNode) { n.hist = []write{{"k", "v"}} })
				r := newRouter(t, c, replica.Options{Positions: fakePositions{}, MaxLag: 30 * time.Second, MinServing: tc.minServing}, "a", "b", "c", "d")
				if got := fmt.Sprint(serving(r)); got != tc.want {
					t.Fatalf("serving %s, want %s", got, tc.want)
				}
				get(t, context.Background(), r, "k")
				if tc.want == "map[]" {
					if pr, _ := c.counts("primary"); pr != 1 {
						t.Fatal("with every replica lagging and MinServing off, the read did not go to the primary")
					}
				}
			})
		})
	}
}

// A replica over MaxLagBytes leaves; one whose replay time looks old only
// because the primary is idle (it has replayed everything) stays.
func TestLagInBytesAndIdlePrimary(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "a", "b")
		c.do("primary", func(n *fakeNode) { n.hist = make([]write, 100) })
		c.ship("b")
		c.do("b", func(n *fakeNode) { n.lag = time.Hour }) // idle primary: last commit long ago
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, MaxLagBytes: 50, MinServing: -1}, "a", "b")
		if got := fmt.Sprint(serving(r)); got != "map[b:true]" {
			t.Fatalf("serving %s, want b only (a is 100 behind)", got)
		}
		c.ship("a")
		nextRound(time.Second)
		if got := fmt.Sprint(serving(r)); got != "map[a:true b:true]" {
			t.Fatalf("after a caught up, serving %s", got)
		}
	})
}

// A replica down at start leaves at its first probe, reads go elsewhere
// without error, and it joins once it answers.
func TestReplicaDownAtStartJoinsLater(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		c.do("r1", func(n *fakeNode) { n.down = true })
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}}, "r1")
		if serving(r)["r1"] {
			t.Fatal("a replica that is down serves")
		}
		set(t, context.Background(), r, "k", "v")
		if got := get(t, context.Background(), r, "k"); got != "v" {
			t.Fatalf("read %q, want v from the primary", got)
		}
		c.do("r1", func(n *fakeNode) { n.down = false })
		c.ship("r1")
		nextRound(time.Second)
		if !serving(r)["r1"] {
			t.Fatal("the replica did not join")
		}
		get(t, context.Background(), r, "k")
		if rr, _ := c.counts("r1"); rr != 1 {
			t.Fatal("the replica that joined serves no read")
		}
	})
}

// A replica that vanishes between probes fails no read: the read that finds
// it gone is sent again elsewhere, and it leaves the rotation at once.
func TestReplicaVanishingFailsNoRead(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1", "r2")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWOff}, "r1", "r2")
		set(t, context.Background(), r, "k", "v")
		c.ship("r1")
		c.ship("r2")
		c.do("r1", func(n *fakeNode) { n.down = true })
		for i := range 10 {
			if got := get(t, context.Background(), r, "k"); got != "v" {
				t.Fatalf("read %d: %q", i, got)
			}
		}
		if serving(r)["r1"] {
			t.Fatal("the vanished replica is still in rotation")
		}
		if rr, _ := c.counts("r2"); rr < 9 {
			t.Fatalf("r2 served %d of 10 reads", rr)
		}
		// The same through prepared statements, prepared on r2 before it vanishes.
		st, err := r.PrepareContext(context.Background(), "GET")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		c.do("r1", func(n *fakeNode) { n.down = false })
		nextRound(time.Second)
		for range 4 { // prepare on both replicas
			var v string
			if err := st.QueryRowContext(context.Background(), "k").Scan(&v); err != nil {
				t.Fatal(err)
			}
		}
		c.do("r2", func(n *fakeNode) { n.down = true })
		for i := range 10 {
			var v string
			if err := st.QueryRowContext(context.Background(), "k").Scan(&v); err != nil || v != "v" {
				t.Fatalf("prepared read %d: %q, %v", i, v, err)
			}
			rows, err := st.QueryContext(context.Background(), "k")
			if err != nil {
				t.Fatalf("prepared query %d: %v", i, err)
			}
			rows.Close()
		}
	})
}

// Follow mode: an external promotion moves writes at the next probe, and
// the old primary (still up, on the older timeline) gets no more writes.
func TestFollowsAnExternalPromotionAndFencesTheOldPrimary(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1", "r2")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ProbeInterval: time.Second}, "r1", "r2")
		set(t, context.Background(), r, "a", "1")
		c.ship("r1")
		if err := (fakePositions{}).Promote(context.Background(), c.db("r1")); err != nil {
			t.Fatal(err)
		}
		nextRound(time.Second)
		set(t, context.Background(), r, "b", "2")
		if _, pw := c.counts("primary"); pw != 1 {
			t.Fatalf("old primary got %d writes, want only the first", pw)
		}
		if _, w := c.counts("r1"); w != 1 {
			t.Fatalf("new primary got %d writes, want 1", w)
		}
		st := r.Status()
		if !st[1].Writer || st[0].Serving {
			t.Fatalf("status %+v: want r1 writer, old primary out of rotation", st)
		}
		if err := r.Check(context.Background()); !errors.Is(err, replica.ErrRoleMismatch) {
			t.Fatalf("Check: %v, want the old primary reported", err)
		}
		// Fenced for good: another round, still no writes to it.
		nextRound(time.Second)
		set(t, context.Background(), r, "c", "3")
		if _, pw := c.counts("primary"); pw != 1 {
			t.Fatal("the fenced old primary got a write")
		}
	})
}

// Coordinator mode: after FailoverAfter failed probes of the primary, the
// most caught-up replica is promoted and writes resume there; the old
// primary coming back as a primary is fenced.
func TestCoordinatorPromotesTheMostCaughtUpReplica(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1", "r2")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, Failover: replica.FailoverCoordinate, FailoverAfter: 3, ProbeInterval: time.Second}, "r1", "r2")
		set(t, context.Background(), r, "a", "1")
		set(t, context.Background(), r, "b", "2")
		c.ship("r2")
		c.do("primary", func(n *fakeNode) { n.down = true })
		nextRound(time.Second)
		nextRound(time.Second)
		if _, err := r.ExecContext(context.Background(), "SET", "x", "y"); err == nil {
			t.Fatal("a write succeeded with the primary down and nothing promoted yet")
		}
		nextRound(time.Second)
		st := r.Status()
		if !st[2].Writer {
			t.Fatalf("status %+v: want r2 (the most caught up) promoted", st)
		}
		set(t, context.Background(), r, "c", "3")
		c.do("primary", func(n *fakeNode) { n.down = false }) // back, still saying primary
		nextRound(time.Second)
		set(t, context.Background(), r, "d", "4")
		if _, pw := c.counts("primary"); pw != 2 {
			t.Fatalf("the old primary got %d writes, want the 2 before the failover", pw)
		}
		if _, w := c.counts("r2"); w != 2 {
			t.Fatalf("the promoted replica got %d writes, want 2", w)
		}
	})
}

// Follow mode never promotes: with the primary down, writes fail.
func TestFollowModeDoesNotPromote(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}}, "r1")
		c.do("primary", func(n *fakeNode) { n.down = true })
		for range 5 {
			nextRound(time.Second)
		}
		if st := r.Status(); !st[0].Writer || st[1].State.Role != replica.RoleReplica {
			t.Fatalf("status %+v: want nothing promoted", st)
		}
	})
}

// Check reports a replica DSN that points at a primary.
func TestCheckReportsARoleMismatch(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}}, "r1")
		if err := r.Check(context.Background()); err != nil {
			t.Fatalf("Check: %v", err)
		}
		c.do("r1", func(n *fakeNode) { n.role = replica.RolePrimary })
		err := r.Check(context.Background())
		if !errors.Is(err, replica.ErrRoleMismatch) {
			t.Fatalf("Check: %v, want ErrRoleMismatch", err)
		}
		nextRound(time.Second)
		if serving(r)["r1"] {
			t.Fatal("a replica that says it is a primary serves reads")
		}
	})
}

// unknownRoles is a Positions that cannot tell roles (RoleUnknown).
type unknownRoles struct{ fakePositions }

func (u unknownRoles) State(ctx context.Context, q replica.Querier) (replica.NodeState, error) {
	st, err := u.fakePositions.State(ctx, q)
	st.Role, st.Timeline = replica.RoleUnknown, 0
	return st, err
}

// A Positions that reports no role leaves writes where they are (it moved
// them nowhere: every write failed with ErrNoPrimary).
func TestUnknownRolesKeepTheWriter(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: unknownRoles{}}, "r1")
		nextRound(time.Second)
		set(t, context.Background(), r, "k", "v")
	})
}

// A probe that started before a read found the replica gone does not put
// it back in rotation when it answers: only a later probe may.
func TestProbeOlderThanAFailedReadKeepsTheReplicaOut(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1", "r2")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWOff, ProbeInterval: time.Second}, "r1", "r2")
		c.do("r1", func(n *fakeNode) { n.slowState = 500 * time.Millisecond })
		time.Sleep(time.Second) // the next round's probe of r1 is asked now, answers in 500ms
		time.Sleep(100 * time.Millisecond)
		c.do("r1", func(n *fakeNode) { n.down = true })
		for range 4 {
			get(t, context.Background(), r, "k") // one of them finds r1 gone
		}
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if serving(r)["r1"] {
			t.Fatal("a probe asked before the failed read put the replica back in rotation")
		}
	})
}
