package replica_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"testing"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
)

// Writes go to the primary, reads to a replica, marked reads and read-write
// transactions to the primary, read-only transactions to a replica except
// serializable ones (refused by a hot standby).
func TestRoutesByMethodAndMarker(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWOff}, "r1")
		ctx := context.Background()
		set(t, ctx, r, "k", "v1")
		c.ship("r1")
		if got := get(t, ctx, r, "k"); got != "v1" {
			t.Fatalf("read %q, want v1", got)
		}
		if pr, pw := c.counts("primary"); pr != 0 || pw != 1 {
			t.Fatalf("primary served %d reads, %d writes; want 0, 1", pr, pw)
		}
		if rr, _ := c.counts("r1"); rr != 1 {
			t.Fatalf("replica served %d reads, want 1", rr)
		}

		get(t, replica.WithPrimary(ctx), r, "k")
		if pr, _ := c.counts("primary"); pr != 1 {
			t.Fatalf("a marked read went to the replica")
		}

		for _, tc := range []struct {
			name    string
			opts    *sql.TxOptions
			primary bool
		}{
			{"read-write", nil, true},
			{"read-only", &sql.TxOptions{ReadOnly: true}, false},
			{"read-only serializable", &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelSerializable}, true},
		} {
			pr0, _ := c.counts("primary")
			tx, err := r.BeginTx(ctx, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var v string
			if err := tx.QueryRowContext(ctx, "GET", "k").Scan(&v); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			pr1, _ := c.counts("primary")
			if onPrimary := pr1 > pr0; onPrimary != tc.primary {
				t.Errorf("%s transaction on the primary: %v, want %v", tc.name, onPrimary, tc.primary)
			}
		}
	})
}

// With no replica configured, or none serving, reads go to the primary.
func TestNoReplicaReadsThePrimary(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}})
		ctx := context.Background()
		set(t, ctx, r, "k", "v")
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v", got)
		}
	})
}

// A prepared statement runs its writes on the primary and its reads as
// reads, recording the write in the session.
func TestStmtRoutesLikeTheRouter(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}, ReadYourWrites: replica.RYWCausalFast}, "r1")
		setStmt, err := r.PrepareContext(context.Background(), "SET")
		if err != nil {
			t.Fatal(err)
		}
		defer setStmt.Close()
		getStmt, err := r.PrepareContext(context.Background(), "GET")
		if err != nil {
			t.Fatal(err)
		}
		defer getStmt.Close()
		ctx, s := session()
		if _, err := setStmt.ExecContext(ctx, "k", "v"); err != nil {
			t.Fatal(err)
		}
		if s.Position() != 1 {
			t.Fatalf("session position %d after the write, want 1", s.Position())
		}
		var v string
		if err := getStmt.QueryRowContext(ctx, "k").Scan(&v); err != nil || v != "v" {
			t.Fatalf("read %q, %v; want v (from the primary: the replica lags)", v, err)
		}
		c.ship("r1")
		if err := getStmt.QueryRowContext(context.Background(), "k").Scan(&v); err != nil || v != "v" {
			t.Fatalf("read %q, %v; want v", v, err)
		}
		if rr, _ := c.counts("r1"); rr != 1 {
			t.Fatalf("replica served %d reads, want 1", rr)
		}
	})
}

// A healthy start logs nothing: the primary is not a read backend marked
// down (lb logged "backend=primary down=true" at every New).
func TestHealthyStartLogsNothing(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		var logs bytes.Buffer
		newRouter(t, c, replica.Options{Positions: fakePositions{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, "r1")
		if logs.Len() != 0 {
			t.Fatalf("logged at a healthy start:\n%s", logs.String())
		}
	})
}

// A write outside ExecContext and Tx (here on a Conn) is recorded by Wrote.
func TestWroteRecordsAWriteOnAConn(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newCluster(t, "r1")
		r := newRouter(t, c, replica.Options{Positions: fakePositions{}}, "r1")
		ctx, s := session()
		conn, err := r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SET", "k", "v"); err != nil {
			t.Fatal(err)
		}
		if s.Position() != 0 {
			t.Fatal("a write on a Conn was recorded without Wrote")
		}
		r.Wrote(ctx)
		if s.Position() != 1 {
			t.Fatalf("position %d after Wrote, want 1", s.Position())
		}
		if got := get(t, ctx, r, "k"); got != "v" {
			t.Fatalf("read %q, want v", got)
		}
	})
}
