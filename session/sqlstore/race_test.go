package sqlstore_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/sessiontest"
	"github.com/ladder-go/ladder/session/sqlstore"
)

// waitLockWaiter waits (bounded) until a statement of the database waits on a lock.
func waitLockWaiter(t *testing.T, db *sql.DB) {
	t.Helper()
	for range 1000 {
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no statement waited on the lock")
}

// A DestroyUser whose statement starts while a Renew of the user's only session is
// committing must still destroy the renewed session (PostgreSQL, READ COMMITTED: the
// UPDATE re-checks the old row, now a tombstone, and does not see the new one).
func TestPostgresDestroyUserDuringRenew(t *testing.T) {
	db := testenv.Postgres(t).DB(t)
	s := newStore(t, db, sqlstore.Postgres, sqlstore.Options{})
	ctx := t.Context()
	oldKey, newKey, user := sessiontest.Key(), sessiontest.Key(), "alice"
	now := time.Now()
	if err := s.Create(ctx, oldKey, session.Record{Values: map[string][]byte{"a": []byte("1")}, User: user,
		Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	// A Renew in flight, as Store.Renew runs it, holding the old row's lock.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE ladder_sessions SET tomb = 1, fwd = $1, expires = $2 WHERE k = $3`, []any{newKey, now.Add(time.Minute).UnixMilli(), oldKey}},
		{`INSERT INTO ladder_sessions (k, created, expires, usr) VALUES ($1, $2, $3, $4)`, []any{newKey, now.UnixMilli(), now.Add(time.Hour).UnixMilli(), user}},
		{`UPDATE ladder_sessions_values SET k = $1 WHERE k = $2`, []any{newKey, oldKey}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := s.DestroyUser(ctx, user, time.Minute)
		done <- result{n, err}
	}()
	waitLockWaiter(t, db)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if _, err := s.Load(ctx, newKey); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("renewed session survived DestroyUser (which destroyed %d): Load err = %v", r.n, err)
	}
	if r.n != 1 {
		t.Errorf("DestroyUser = %d, want 1", r.n)
	}
}
