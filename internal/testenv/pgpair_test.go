package testenv

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"
)

func inRecovery(t *testing.T, db *sql.DB) bool {
	t.Helper()
	var r bool
	if err := db.QueryRowContext(t.Context(), "SELECT pg_is_in_recovery()").Scan(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

func timeline(t *testing.T, db *sql.DB) int {
	t.Helper()
	var tl int
	err := db.QueryRowContext(t.Context(),
		"SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int").Scan(&tl)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

// TestPGPairCrashPromoteAndSplitBrain walks the drill the helper exists for:
// the private replica streams the primary's writes; the primary crashes
// (SIGKILL) and the replica, promoted, takes writes on a new timeline; the
// old primary, restarted, is a primary again on the old timeline.
func TestPGPairCrashPromoteAndSplitBrain(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := StartPGPair(t)
	t.Logf("StartPGPair took %v", time.Since(start))
	p, r := c.Primary.DB(t), c.Replica.DB(t)
	ctx := t.Context()
	if _, err := p.ExecContext(ctx, "CREATE TABLE drill (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ExecContext(ctx, "INSERT INTO drill VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	WaitReplay(t, ctx, p, r)
	if !inRecovery(t, r) || inRecovery(t, p) {
		t.Fatal("the replica is not a standby, or the primary is")
	}

	c.Primary.Kill()
	if err := p.PingContext(ctx); err == nil {
		t.Fatal("the killed primary still answers")
	}
	c.Replica.Promote()
	if inRecovery(t, r) {
		t.Fatal("the promoted replica is still in recovery")
	}
	if _, err := r.ExecContext(ctx, "INSERT INTO drill VALUES (2)"); err != nil {
		t.Fatalf("the promoted replica refuses writes: %v", err)
	}
	c.Primary.Start()
	if inRecovery(t, p) {
		t.Fatal("the old primary restarted as a standby; want a primary")
	}
	if old, cur := timeline(t, p), timeline(t, r); old != 1 || cur != 2 {
		t.Fatalf("timelines: old primary %d, promoted replica %d; want 1 and 2", old, cur)
	}
	var n int
	if err := p.QueryRowContext(ctx, "SELECT count(*) FROM drill").Scan(&n); err != nil || n != 1 {
		t.Fatalf("old primary has %d rows, %v; want its own 1", n, err)
	}
}

// TestPGPairFreezeStopRestart: a frozen replica answers nothing until thawed;
// a replica stopped and started again catches up with the writes it missed.
func TestPGPairFreezeStopRestart(t *testing.T) {
	t.Parallel()
	c := StartPGPair(t)
	p, r := c.Primary.DB(t), c.Replica.DB(t)
	if err := r.PingContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	r.SetMaxOpenConns(1)

	c.Replica.Freeze()
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	err := r.QueryRowContext(ctx, "SELECT 1").Scan(new(int))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a query on the frozen replica: %v; want it to hang until its deadline", err)
	}
	c.Replica.Thaw()
	if err := r.QueryRowContext(t.Context(), "SELECT 1").Scan(new(int)); err != nil {
		t.Fatalf("the thawed replica: %v", err)
	}

	c.Replica.Stop()
	if _, err := p.ExecContext(t.Context(), "CREATE TABLE missed (id int)"); err != nil {
		t.Fatal(err)
	}
	c.Replica.Start()
	wctx, wcancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer wcancel()
	WaitReplay(t, wctx, p, r)
	if err := r.QueryRowContext(t.Context(), "SELECT count(*) FROM missed").Scan(new(int)); err != nil {
		t.Fatalf("the restarted replica did not catch up: %v", err)
	}
	d := c.Database(t)
	if err := d.Replica.DB(t).PingContext(t.Context()); err != nil {
		t.Fatalf("a fresh database is not on the replica: %v", err)
	}
}

// TestPgBouncerPoolsTransactions: through PgBouncer a second client's
// transaction runs on the server session the first client used while that
// client stays connected, which only transaction pooling does.
func TestPgBouncerPoolsTransactions(t *testing.T) {
	t.Parallel()
	through := PgBouncer(t, Postgres(t))
	// pgx's default statement cache names statements per client connection,
	// which transaction pooling mixes up: exec mode prepares unnamed ones.
	db := PG{DSN: through.DSN + "&default_query_exec_mode=exec"}.DB(t)
	ctx := t.Context()
	c1, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	var pid1, pid2 int
	if err := c1.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid1); err != nil {
		t.Fatal(err)
	}
	c2, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	tx, err := c2.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid2); err != nil {
		t.Fatal(err)
	}
	if pid1 != pid2 {
		t.Fatalf("two clients ran on server sessions %d and %d; transaction pooling shares the idle one", pid1, pid2)
	}
}

// TestPGNodeMovesOffATakenPort: a node whose port another server took
// between FreePort and its bind starts on another port.
func TestPGNodeMovesOffATakenPort(t *testing.T) {
	t.Parallel()
	c := StartPGPair(t)
	r := c.Replica
	r.Kill()
	taken := c.Primary.Port
	r.Port = taken
	r.firstStart("")
	if r.Port == taken {
		t.Fatal("the node kept the taken port")
	}
	if !inRecovery(t, r.DB(t)) {
		t.Fatal("the moved replica is not a standby")
	}
	if inRecovery(t, c.Primary.DB(t)) {
		t.Fatal("the primary answering on the taken port is not the primary")
	}
}
