package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// PG is a fresh, empty PostgreSQL database that belongs to one test.
type PG struct {
	DSN  string // URL form: postgres://user@host:port/dbname?sslmode=disable
	Name string // database name
}

// DB opens the database with the pgx database/sql driver ("pgx") and closes
// it when the test ends.
func (p PG) DB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", p.DSN)
	if err != nil {
		t.Fatalf("testenv: opening %s: %v", p.Name, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// PGPair is one fresh database seen through the primary and through its
// streaming replica.
type PGPair struct {
	Primary, Replica PG
}

// Postgres creates a fresh database on the primary started by scripts/test
// and drops it when the test ends. It skips or fails t (see package doc)
// when LADDER_PG_PRIMARY is unset.
func Postgres(t testing.TB) PG {
	t.Helper()
	admin := lookup(t, EnvPGPrimary)
	name := uniqueName("ladder_t_")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := adminExec(ctx, admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testenv: creating database on the primary (%s): %v", EnvPGPrimary, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: dropping database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvPGPrimary, err)
	}
	return PG{DSN: dsn, Name: name}
}

// Replica creates a fresh database on the primary and returns it as seen
// through the primary and the streaming replica, once the replica has it.
// It skips or fails t when LADDER_PG_PRIMARY or LADDER_PG_REPLICA is unset.
func Replica(t testing.TB) PGPair {
	t.Helper()
	replicaAdmin := lookup(t, EnvPGReplica)
	primary := Postgres(t)
	dsn, err := withDatabase(replicaAdmin, primary.Name)
	if err != nil {
		t.Fatalf("testenv: %s: %v", EnvPGReplica, err)
	}
	pair := PGPair{Primary: primary, Replica: PG{DSN: dsn, Name: primary.Name}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, r := openAdmin(t, lookup(t, EnvPGPrimary)), openAdmin(t, replicaAdmin)
	WaitReplay(t, ctx, p, r)
	return pair
}

// WaitReplay waits until the replica has replayed the primary's current WAL
// position, and returns how long that took: the replication lag seen by a
// reader that wants to read its own write. It fails t if ctx ends first.
func WaitReplay(t testing.TB, ctx context.Context, primary, replica *sql.DB) time.Duration {
	t.Helper()
	start := time.Now()
	var lsn string
	if err := primary.QueryRowContext(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		t.Fatalf("testenv: reading the primary's WAL position: %v", err)
	}
	for {
		var caughtUp bool
		err := replica.QueryRowContext(ctx,
			"SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)", lsn).Scan(&caughtUp)
		if err != nil {
			t.Fatalf("testenv: reading the replica's replay position: %v", err)
		}
		if caughtUp {
			return time.Since(start)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("testenv: replica did not replay %s: %v", lsn, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func openAdmin(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func adminExec(ctx context.Context, dsn, stmt string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}

// withDatabase returns dsn (URL form) pointing at database name.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("DSN %q is not a postgres:// URL", dsn)
	}
	u.Path = "/" + name
	return u.String(), nil
}
