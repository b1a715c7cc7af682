package replicatest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ladder-go/ladder/replica"
)

// Target is a primary and its replica as a [replica.Positions] implementation
// sees them, handed to [RunPositions] and [RunPromote]. Each call of the
// function that makes one returns a fresh, empty database on both nodes
// (a new [Pair], or a new database on a PostgreSQL cluster), cleaned up when
// the test ends.
type Target struct {
	Positions        replica.Positions
	Primary, Replica *sql.DB
	// Pause stops the replica replaying what the primary commits until Resume;
	// both nil if the target cannot pause (the replication-lag subtests then
	// do not run). They may be called from the test's goroutine only.
	Pause, Resume func(t testing.TB)
}

// suiteTimeout bounds every wait of the suite: replication on loopback takes
// milliseconds, so reaching it means the implementation is broken.
const suiteTimeout = 20 * time.Second

// RunPositions checks that an implementation of [replica.Positions] keeps the
// contract the router relies on: positions only grow, a replica that has
// reached a position shows every write committed before it (read-your-writes),
// roles and timelines are reported, and a cancelled context is returned as
// such. newTarget is called once per subtest. It does not promote: see
// [RunPromote].
func RunPositions(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	for _, c := range []struct {
		name string
		f    func(*testing.T, Target)
	}{
		{"WritePositionGrowsWithEachCommit", testWritePositionGrows},
		{"StateOfEachNode", testStateOfEachNode},
		{"ReachedMeansTheWriteIsVisible", testReachedMeansVisible},
		{"PausedReplicaHasNotReached", testPausedReplica},
		{"ReplicaRefusesWrites", testReplicaRefusesWrites},
		{"WritePositionOnReplicaFails", testWritePositionOnReplica},
		{"CancelledContext", testCancelledContext},
		{"ConnAndTxAreQueriers", testConnAndTx},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, newTarget(t)) })
	}
}

// RunPromote promotes the replica of a target from newTarget and checks what
// fencing relies on: the promoted node reports itself a primary on a later
// timeline than the old primary, has every write it had replayed, and accepts
// writes; promoting a primary is a no-op. The target is not usable as a pair
// afterwards.
func RunPromote(t *testing.T, newTarget func(t *testing.T) Target) {
	t.Helper()
	tg := newTarget(t)
	ctx, cancel := context.WithTimeout(t.Context(), suiteTimeout)
	defer cancel()
	pos := tg.Positions
	createTable(t, tg.Primary)
	insert(t, tg.Primary, 1)
	p := writePosition(t, tg)
	waitReached(t, tg, p)
	before := state(t, pos, tg.Primary, "primary")

	if err := pos.Promote(ctx, tg.Primary); err != nil {
		t.Fatalf("Promote(primary) = %v; want nil (it already accepts writes)", err)
	}
	if got := state(t, pos, tg.Primary, "primary"); got.Role != replica.RolePrimary || got.Timeline != before.Timeline {
		t.Fatalf("after Promote(primary): %+v; want unchanged role and timeline %d", got, before.Timeline)
	}

	if err := pos.Promote(ctx, tg.Replica); err != nil {
		t.Fatalf("Promote(replica): %v", err)
	}
	after := state(t, pos, tg.Replica, "promoted replica")
	if after.Role != replica.RolePrimary {
		t.Fatalf("promoted replica reports role %v; want primary", after.Role)
	}
	if after.Timeline <= before.Timeline {
		t.Fatalf("promoted replica on timeline %d; want after the old primary's %d", after.Timeline, before.Timeline)
	}
	if old := state(t, pos, tg.Primary, "old primary"); old.Role != replica.RolePrimary || old.Timeline != before.Timeline {
		t.Fatalf("old primary (still running) reports %+v; want primary on timeline %d", old, before.Timeline)
	}
	if got := count(t, tg.Replica, 1); got != 1 {
		t.Fatalf("promoted replica lost a replayed write: %d rows with id 1", got)
	}
	insert(t, tg.Replica, 2) // it accepts writes
	wp, err := pos.WritePosition(ctx, tg.Replica)
	if err != nil || wp < p {
		t.Fatalf("WritePosition on the promoted replica = %v, %v; want ≥ %v", wp, err, p)
	}
	if ok, err := pos.Reached(ctx, tg.Replica, wp); err != nil || !ok {
		t.Fatalf("Reached(promoted, its own write position) = %v, %v; want true", ok, err)
	}
	if err := pos.Promote(ctx, tg.Replica); err != nil {
		t.Fatalf("Promote(promoted replica) again = %v; want nil", err)
	}
}

func testWritePositionGrows(t *testing.T, tg Target) {
	createTable(t, tg.Primary)
	last := writePosition(t, tg)
	for i := range 20 {
		insert(t, tg.Primary, i)
		p := writePosition(t, tg)
		if p <= last {
			t.Fatalf("write %d: WritePosition %v after the commit; want > %v before it", i, p, last)
		}
		last = p
	}
}

func testStateOfEachNode(t *testing.T, tg Target) {
	createTable(t, tg.Primary)
	insert(t, tg.Primary, 1)
	p := writePosition(t, tg)
	ps := state(t, tg.Positions, tg.Primary, "primary")
	if ps.Role != replica.RolePrimary || ps.Timeline == 0 || ps.Position < p || ps.ReplayLag != 0 {
		t.Fatalf("State(primary) = %+v; want role primary, a timeline, position ≥ %v, no replay lag", ps, p)
	}
	waitReached(t, tg, p)
	rs := state(t, tg.Positions, tg.Replica, "replica")
	if rs.Role != replica.RoleReplica || rs.Position < p || rs.Timeline != ps.Timeline {
		t.Fatalf("State(replica) = %+v; want role replica, position ≥ %v, timeline %d", rs, p, ps.Timeline)
	}
	if now := writePosition(t, tg); rs.Position > now {
		t.Fatalf("replica position %v is past the primary's %v", rs.Position, now)
	}
}

// testReachedMeansVisible is read-your-writes: once Reached reports the
// position taken after a commit, the replica shows that commit.
func testReachedMeansVisible(t *testing.T, tg Target) {
	createTable(t, tg.Primary)
	for i := range 20 {
		insert(t, tg.Primary, i)
		p := writePosition(t, tg)
		waitReached(t, tg, p)
		if n := count(t, tg.Replica, i); n != 1 {
			t.Fatalf("write %d: Reached(%v) is true but the replica shows %d rows", i, p, n)
		}
	}
	if ok, err := tg.Positions.Reached(t.Context(), tg.Primary, writePosition(t, tg)); err != nil || !ok {
		t.Fatalf("Reached(primary, its write position) = %v, %v; want true", ok, err)
	}
}

func testPausedReplica(t *testing.T, tg Target) {
	if tg.Pause == nil {
		t.Log("the target cannot pause its replica; nothing to check")
		return
	}
	createTable(t, tg.Primary)
	insert(t, tg.Primary, 0)
	waitReached(t, tg, writePosition(t, tg))
	tg.Pause(t)
	insert(t, tg.Primary, 1)
	p := writePosition(t, tg)
	// Whatever the replica does while paused, it must not claim p without the row.
	for range 20 {
		ok, err := tg.Positions.Reached(t.Context(), tg.Replica, p)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			t.Fatalf("a paused replica has reached %v", p)
		}
	}
	if n := count(t, tg.Replica, 1); n != 0 {
		t.Fatalf("a paused replica shows the write made while paused")
	}
	rs := state(t, tg.Positions, tg.Replica, "paused replica")
	if rs.Position >= p {
		t.Fatalf("paused replica reports position %v ≥ %v", rs.Position, p)
	}
	tg.Resume(t)
	waitReached(t, tg, p)
	if n := count(t, tg.Replica, 1); n != 1 {
		t.Fatalf("resumed replica reached %v but shows %d rows", p, n)
	}
}

func testReplicaRefusesWrites(t *testing.T, tg Target) {
	createTable(t, tg.Primary)
	insert(t, tg.Primary, 0)
	waitReached(t, tg, writePosition(t, tg))
	if _, err := tg.Replica.ExecContext(t.Context(), "INSERT INTO ladder_conf (id, v) VALUES (99, 'x')"); err == nil {
		t.Fatal("the replica accepted a write")
	}
}

func testWritePositionOnReplica(t *testing.T, tg Target) {
	createTable(t, tg.Primary)
	waitReached(t, tg, writePosition(t, tg))
	if p, err := tg.Positions.WritePosition(t.Context(), tg.Replica); err == nil {
		t.Fatalf("WritePosition(replica) = %v, nil; want an error (a replica has no write position)", p)
	}
}

func testCancelledContext(t *testing.T, tg Target) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	pos := tg.Positions
	_, err1 := pos.WritePosition(ctx, tg.Primary)
	_, err2 := pos.State(ctx, tg.Replica)
	_, err3 := pos.Reached(ctx, tg.Replica, 1)
	err4 := pos.Promote(ctx, tg.Replica)
	for i, err := range []error{err1, err2, err3, err4} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call %d with a cancelled context: %v; want context.Canceled", i+1, err)
		}
	}
	if rs := state(t, pos, tg.Replica, "replica"); rs.Role != replica.RoleReplica {
		t.Fatalf("Promote with a cancelled context promoted the replica: %+v", rs)
	}
}

func testConnAndTx(t *testing.T, tg Target) {
	ctx := t.Context()
	createTable(t, tg.Primary)
	insert(t, tg.Primary, 1)
	p := writePosition(t, tg)
	conn, err := tg.Primary.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got, err := tg.Positions.WritePosition(ctx, conn); err != nil || got < p {
		t.Fatalf("WritePosition(*sql.Conn) = %v, %v; want ≥ %v", got, err, p)
	}
	waitReached(t, tg, p)
	tx, err := tg.Replica.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if ok, err := tg.Positions.Reached(ctx, tx, p); err != nil || !ok {
		t.Fatalf("Reached(*sql.Tx, %v) = %v, %v; want true", p, ok, err)
	}
	if st, err := tg.Positions.State(ctx, tx); err != nil || st.Role != replica.RoleReplica {
		t.Fatalf("State(*sql.Tx) = %+v, %v; want a replica", st, err)
	}
}

func createTable(t testing.TB, db *sql.DB) {
	t.Helper()
	if _, err := db.ExecContext(t.Context(), "CREATE TABLE ladder_conf (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
		t.Fatalf("creating the test table on the primary: %v", err)
	}
}

func insert(t testing.TB, db *sql.DB, id int) {
	t.Helper()
	q := fmt.Sprintf("INSERT INTO ladder_conf (id, v) VALUES (%d, 'row %d')", id, id)
	if _, err := db.ExecContext(t.Context(), q); err != nil {
		t.Fatalf("writing row %d: %v", id, err)
	}
}

func count(t testing.TB, db *sql.DB, id int) int {
	t.Helper()
	var n int
	q := fmt.Sprintf("SELECT count(*) FROM ladder_conf WHERE id = %d", id)
	if err := db.QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("reading row %d: %v", id, err)
	}
	return n
}

func writePosition(t testing.TB, tg Target) replica.Position {
	t.Helper()
	p, err := tg.Positions.WritePosition(t.Context(), tg.Primary)
	if err != nil {
		t.Fatalf("WritePosition(primary): %v", err)
	}
	if p == 0 {
		t.Fatal("WritePosition(primary) = 0 after a commit")
	}
	return p
}

func state(t testing.TB, pos replica.Positions, q replica.Querier, what string) replica.NodeState {
	t.Helper()
	st, err := pos.State(t.Context(), q)
	if err != nil {
		t.Fatalf("State(%s): %v", what, err)
	}
	return st
}

// waitReached polls Reached until the replica reaches p, failing the test
// after suiteTimeout.
func waitReached(t testing.TB, tg Target, p replica.Position) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), suiteTimeout)
	defer cancel()
	for {
		ok, err := tg.Positions.Reached(ctx, tg.Replica, p)
		if ok {
			return
		}
		if err != nil {
			t.Fatalf("Reached(replica, %v): %v", p, err)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the replica did not reach %v within %v", p, suiteTimeout)
		case <-time.After(time.Millisecond):
		}
	}
}
