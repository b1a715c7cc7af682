package pgreplica_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

// sharedTargets returns a newTarget for the suite: one fresh database on the
// shared primary and replica of scripts/test for the whole test (nothing here
// may pause or promote them), its test table dropped before each subtest.
// open opens a DSN (nil: testenv's own).
func sharedTargets(t *testing.T, open func(t *testing.T, dsn string) *sql.DB) func(*testing.T) replicatest.Target {
	pair := testenv.Replica(t)
	if open == nil {
		open = func(t *testing.T, dsn string) *sql.DB { return testenv.PG{DSN: dsn}.DB(t) }
	}
	primary, standby := open(t, pair.Primary.DSN), open(t, pair.Replica.DSN)
	return func(st *testing.T) replicatest.Target {
		if _, err := primary.ExecContext(st.Context(), "DROP TABLE IF EXISTS ladder_conf"); err != nil {
			st.Fatal(err)
		}
		testenv.WaitReplay(st, st.Context(), primary, standby)
		return replicatest.Target{Positions: pgreplica.Positions{}, Primary: primary, Replica: standby}
	}
}

func TestPositionsConformance(t *testing.T) {
	t.Parallel()
	replicatest.RunPositions(t, sharedTargets(t, nil))
}

// TestPositionsWithoutSessionState runs the suite as PgBouncer in transaction
// mode serves it: every statement on a new server session (no idle
// connection is kept) and no prepared statements (the simple protocol).
func TestPositionsWithoutSessionState(t *testing.T) {
	t.Parallel()
	replicatest.RunPositions(t, sharedTargets(t, func(t *testing.T, dsn string) *sql.DB {
		db, err := sql.Open("pgx", dsn+"&default_query_exec_mode=simple_protocol")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxIdleConns(0)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}))
}

func TestWritePositionOnStandbyIsErrNotPrimary(t *testing.T) {
	t.Parallel()
	tg := sharedTargets(t, nil)(t)
	_, err := pgreplica.Positions{}.WritePosition(t.Context(), tg.Replica)
	if !errors.Is(err, pgreplica.ErrNotPrimary) {
		t.Fatalf("WritePosition(standby) = %v; want ErrNotPrimary", err)
	}
	if strings.Count(err.Error(), "pgreplica:") != 1 {
		t.Fatalf("error %q repeats or lacks the package prefix", err)
	}
}

// TestErrorsCarryThePrefixOnce: every error a method returns, from a dead
// connection, a cancelled context or a standby, names the package once.
func TestErrorsCarryThePrefixOnce(t *testing.T) {
	t.Parallel()
	tg := sharedTargets(t, nil)(t)
	closed, err := sql.Open("pgx", "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	pos := pgreplica.Positions{}
	var errs []error
	for _, c := range []struct {
		ctx context.Context
		q   replica.Querier
	}{{t.Context(), closed}, {cancelled, tg.Primary}} {
		_, e1 := pos.WritePosition(c.ctx, c.q)
		_, e2 := pos.State(c.ctx, c.q)
		_, e3 := pos.Reached(c.ctx, c.q, 1)
		errs = append(errs, e1, e2, e3, pos.Promote(c.ctx, c.q))
	}
	_, e := pos.WritePosition(t.Context(), tg.Replica)
	errs = append(errs, e)
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d: no error", i)
			continue
		}
		if !strings.HasPrefix(err.Error(), "pgreplica: ") || strings.Count(err.Error(), "pgreplica:") != 1 {
			t.Errorf("call %d: %q; want the prefix pgreplica: once, at the start", i, err)
		}
	}
}

// TestPositionsThroughPgBouncer runs the suite through a real PgBouncer in
// transaction pooling mode in front of each node, with pgx in both of the
// query modes that work there (exec: unnamed prepared statements;
// simple_protocol: none).
func TestPositionsThroughPgBouncer(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			replicatest.RunPositions(t, sharedTargets(t, func(t *testing.T, dsn string) *sql.DB {
				through := testenv.PgBouncer(t, testenv.PG{DSN: dsn})
				db, err := sql.Open("pgx", through.DSN+"&default_query_exec_mode="+mode)
				if err != nil {
					t.Fatal(err)
				}
				db.SetMaxOpenConns(8)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}))
		})
	}
}
