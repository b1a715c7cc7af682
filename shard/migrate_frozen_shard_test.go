package shard_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/shard"
)

// A shard that freezes (SIGSTOP: the host hangs, the TCP connection stays
// open) while Cutover waits for its write fence must not hold the fence on
// the other shards forever: lock_timeout is enforced by the server, and a
// frozen server enforces nothing. Cutover returns within its FenceTimeout
// with the old map in place, writes go on on the shards that answer, and
// once the shard thaws the migration runs again to completion with nothing
// lost or duplicated.
func TestMigrationCutoverFenceOnFrozenShardIsBounded(t *testing.T) {
	t.Parallel()
	pair := testenv.StartPGPair(t)
	epg := pair.Database(t).Primary
	j4, _ := shard.NewJump(4)
	j5, _ := shard.NewJump(5)
	from, _ := shard.NewMap(1, []string{"a", "b", "c", "d"}, j4)
	to, _ := shard.NewMap(2, []string{"a", "b", "c", "d", "e"}, j5)
	e := newMigEnvOn(t, 500, from, to, func(name string) testenv.PG {
		if name == "e" { // sorts last: a…d are fenced before e is asked
			return epg
		}
		return testenv.PG{}
	})
	ctx := context.Background()
	m := e.migration(t, shard.MigrateOptions{FenceTimeout: time.Second})
	if err := m.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Copy(ctx); err != nil {
		t.Fatal(err)
	}
	stop := runWriter(t, e, 7)
	e.waitOps(t, 20)

	// A transaction on e holds a write lock, so the fence waits there; e is
	// frozen while it waits.
	blocker, err := e.dbs["e"].BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := blocker.ExecContext(ctx, `LOCK TABLE items IN ROW EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	thawed := false
	thaw := func() {
		if !thawed {
			thawed = true
			pair.Primary.Thaw()
			_ = blocker.Rollback()
		}
	}
	done := make(chan error, 1)
	go func() { done <- m.Cutover(ctx) }()
	waitFenceWaiting(t, e.dbs["e"])
	pair.Primary.Freeze()

	select {
	case err = <-done:
	case <-time.After(time.Minute):
		thaw()
		err = <-done
		stop()
		t.Fatalf("Cutover did not return a minute after its 1s FenceTimeout with shard e frozen, fencing writes on a…d meanwhile (after the thaw it returned %v)", err)
	}
	if err == nil {
		thaw()
		stop()
		t.Fatal("Cutover succeeded with shard e frozen")
	}
	t.Logf("Cutover with e frozen: %v", err)
	onePrefix(t, "Cutover with e frozen", err)
	if e.r.Map() != e.from {
		t.Errorf("router holds %v after a failed cutover", e.r.Map())
	}
	// The fence on a…d is lifted: a write there goes through.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var n int
	if err := e.dbs["a"].QueryRowContext(wctx, `SELECT count(*) FROM items`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, err := e.dbs["a"].ExecContext(wctx, `UPDATE items SET note = note WHERE id = (SELECT min(id) FROM items)`); err != nil {
		t.Errorf("a write on shard a after the failed cutover: %v", err)
	}

	thaw()
	if err := m.Run(ctx); err != nil {
		stop()
		t.Fatalf("Run after the thaw: %v", err)
	}
	e.waitOps(t, 20)
	stop()
	if err := m.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	e.checkPlaced(t, e.to)
}

// waitFenceWaiting waits until a session waits for an EXCLUSIVE lock on
// items in db: the cutover's fence.
func waitFenceWaiting(t *testing.T, db *sql.DB) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_locks WHERE relation = 'items'::regclass
			AND mode = 'ExclusiveLock' AND NOT granted`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the cutover never waited for the fence on e")
		}
	}
}

// Once taken, the fence is held at most FenceHold: past it the cutover is
// abandoned, every shard's fence lifted and the old map kept, and a later
// Cutover completes with nothing lost or duplicated.
func TestMigrationCutoverAbandonedPastFenceHold(t *testing.T) {
	t.Parallel()
	e := newMigEnv(t, 300)
	ctx := context.Background()
	stop := runWriter(t, e, 9)
	m := e.migration(t, shard.MigrateOptions{FenceHold: time.Nanosecond})
	err := m.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "FenceHold") {
		stop()
		t.Fatalf("Run with a 1ns FenceHold: %v, want the cutover abandoned", err)
	}
	t.Log(err)
	onePrefix(t, "Cutover past FenceHold", err)
	if e.r.Map() != e.from {
		stop()
		t.Fatalf("router holds %v after an abandoned cutover", e.r.Map())
	}
	e.waitOps(t, 20) // writes go on
	if err := e.migration(t, shard.MigrateOptions{}).Run(ctx); err != nil {
		stop()
		t.Fatalf("Run again: %v", err)
	}
	e.waitOps(t, 20)
	stop()
	if err := m.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	e.checkPlaced(t, e.to)
}
