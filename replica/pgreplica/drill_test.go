package pgreplica_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

// privateTargets returns a newTarget for the suite on a private primary and
// replica, whose replay the suite may pause (pg_wal_replay_pause).
func privateTargets(t *testing.T) func(*testing.T) replicatest.Target {
	c := testenv.StartPGPair(t)
	primary, standby := c.Primary.DB(t), c.Replica.DB(t)
	return func(st *testing.T) replicatest.Target {
		if _, err := primary.ExecContext(st.Context(), "DROP TABLE IF EXISTS ladder_conf"); err != nil {
			st.Fatal(err)
		}
		testenv.WaitReplay(st, st.Context(), primary, standby)
		return replicatest.Target{
			Positions: pgreplica.Positions{}, Primary: primary, Replica: standby,
			Pause:  func(t testing.TB) { pauseReplay(t, standby) },
			Resume: func(t testing.TB) { mustExec(t, standby, "SELECT pg_wal_replay_resume()") },
		}
	}
}

func mustExec(t testing.TB, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// pauseReplay pauses the standby's replay and waits until it has paused.
func pauseReplay(t testing.TB, standby *sql.DB) {
	t.Helper()
	mustExec(t, standby, "SELECT pg_wal_replay_pause()")
	for {
		var st string
		if err := standby.QueryRowContext(context.Background(), "SELECT pg_get_wal_replay_pause_state()").Scan(&st); err != nil {
			t.Fatal(err)
		}
		if st == "paused" {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPositionsConformancePausedReplay runs the suite with a replica whose
// replay it pauses, and checks the replay lag a paused standby reports.
func TestPositionsConformancePausedReplay(t *testing.T) {
	t.Parallel()
	newTarget := privateTargets(t)
	replicatest.RunPositions(t, newTarget)

	t.Run("ReplayLagWhilePaused", func(t *testing.T) {
		tg := newTarget(t)
		pos := pgreplica.Positions{}
		mustExec(t, tg.Primary, "CREATE TABLE ladder_conf (id int)")
		testenv.WaitReplay(t, t.Context(), tg.Primary, tg.Replica)
		tg.Pause(t)
		mustExec(t, tg.Primary, "INSERT INTO ladder_conf VALUES (1)")
		p, err := pos.WritePosition(t.Context(), tg.Primary)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the standby to receive the write", func() bool {
			var received bool
			err := tg.Replica.QueryRowContext(t.Context(), "SELECT pg_last_wal_receive_lsn() >= $1::text::pg_lsn", pgreplica.FormatLSN(p)).Scan(&received)
			return err == nil && received
		})
		st, err := pos.State(t.Context(), tg.Replica)
		if err != nil || st.ReplayLag <= 0 || st.Position >= p {
			t.Fatalf("paused standby with a write received: %+v, %v; want a replay lag and a position before %v", st, err, p)
		}
		tg.Resume(t)
		waitFor(t, "the resumed standby to report no lag", func() bool {
			st, err := pos.State(t.Context(), tg.Replica)
			return err == nil && st.ReplayLag == 0 && st.Position >= p
		})
	})
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up after 20s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPromoteConformance(t *testing.T) {
	t.Parallel()
	replicatest.RunPromote(t, privateTargets(t))
}

// TestCrashedPrimaryComesBackOnTheOldTimeline is the fencing drill: the
// primary is killed (SIGKILL), its standby promoted through Positions, and
// the old primary restarted as a primary; State tells them apart by
// timeline, which is what keeps writes off the old one.
func TestCrashedPrimaryComesBackOnTheOldTimeline(t *testing.T) {
	t.Parallel()
	c := testenv.StartPGPair(t)
	primary, standby := c.Primary.DB(t), c.Replica.DB(t)
	pos := pgreplica.Positions{}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	mustExec(t, primary, "CREATE TABLE acked (id int)")
	mustExec(t, primary, "INSERT INTO acked VALUES (1)")
	p, err := pos.WritePosition(ctx, primary)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the standby to replay the write", func() bool {
		ok, err := pos.Reached(ctx, standby, p)
		return err == nil && ok
	})
	old, err := pos.State(ctx, primary)
	if err != nil || old.Role != replica.RolePrimary || old.Timeline != 1 {
		t.Fatalf("State(primary) = %+v, %v; want a primary on timeline 1", old, err)
	}

	c.Primary.Kill()
	if _, err := pos.State(ctx, primary); err == nil {
		t.Fatal("State of a killed primary succeeded")
	}
	orphan, err := pos.State(ctx, standby)
	if err != nil || orphan.Role != replica.RoleReplica || orphan.Position < p || orphan.Timeline != 1 {
		t.Fatalf("State(standby without its primary) = %+v, %v; want a replica at ≥ %v on timeline 1", orphan, err, p)
	}
	if err := pos.Promote(ctx, standby); err != nil {
		t.Fatal(err)
	}
	promoted, err := pos.State(ctx, standby)
	if err != nil || promoted.Role != replica.RolePrimary || promoted.Timeline != 2 || promoted.Position < p {
		t.Fatalf("State(promoted) = %+v, %v; want a primary on timeline 2 at ≥ %v", promoted, err, p)
	}
	mustExec(t, standby, "INSERT INTO acked VALUES (2)")

	c.Primary.Start()
	back, err := pos.State(ctx, primary)
	if err != nil || back.Role != replica.RolePrimary || back.Timeline != 1 {
		t.Fatalf("State(old primary restarted) = %+v, %v; want a primary on the old timeline 1", back, err)
	}
	if back.Timeline >= promoted.Timeline {
		t.Fatalf("the old primary's timeline %d is not behind the promoted one's %d", back.Timeline, promoted.Timeline)
	}
}
