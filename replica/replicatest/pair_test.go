package replicatest_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	_ "modernc.org/sqlite"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

func exec(t testing.TB, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func ids(t testing.TB, db *sql.DB) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow("SELECT group_concat(id, ',') FROM (SELECT id FROM t ORDER BY id)").Scan(&s); err != nil {
		t.Fatalf("reading ids: %v", err)
	}
	return s.String
}

func syncPair(t testing.TB, p *replicatest.Pair) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestStepReplaysWholeTransactionsInOrder(t *testing.T) {
	p := newPair(t, replicatest.Options{Paused: true})
	exec(t, p.Primary(), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	tx, err := p.Primary().Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec(t, tx, "INSERT INTO t VALUES (1)")
	exec(t, tx, "INSERT INTO t VALUES (2)")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	exec(t, p.Primary(), "INSERT INTO t VALUES (3)")
	if n := p.Pending(); n != 3 {
		t.Fatalf("Pending = %d; want 3 (CREATE, the two-row transaction, the insert)", n)
	}
	if n, err := p.Step(1); n != 1 || err != nil {
		t.Fatalf("Step(1) = %d, %v", n, err)
	}
	if got := ids(t, p.Replica()); got != "" {
		t.Fatalf("after the CREATE only, the replica has rows %q", got)
	}
	if n, err := p.Step(1); n != 1 || err != nil {
		t.Fatalf("Step(1) = %d, %v", n, err)
	}
	if got := ids(t, p.Replica()); got != "1,2" {
		t.Fatalf("after the transaction, the replica has %q; want both of its rows, 1,2", got)
	}
	if n, err := p.Step(5); n != 1 || err != nil {
		t.Fatalf("Step(5) with one pending = %d, %v; want 1", n, err)
	}
	if got := ids(t, p.Replica()); got != "1,2,3" {
		t.Fatalf("replica has %q; want 1,2,3", got)
	}
	st, err := p.State(t.Context(), p.Replica())
	if err != nil || st.Position != 3 || st.ReplayLag != 0 {
		t.Fatalf("State(replica) = %+v, %v; want position 3, no lag", st, err)
	}
}

// TestWhatIsShipped: prepared statements, writes returning rows, and
// transactions are shipped; a rolled-back transaction and reads are not.
func TestWhatIsShipped(t *testing.T) {
	p := newPair(t, replicatest.Options{})
	db := p.Primary()
	exec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v BLOB)")
	syncPair(t, p)
	p.Pause()
	before, _ := p.WritePosition(t.Context(), db)

	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec(t, tx, "INSERT INTO t (v) VALUES (?)", []byte("rolled back"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM t").Scan(&n); err != nil || n != 0 {
		t.Fatalf("count = %d, %v", n, err)
	}
	if got := p.Pending(); got != 0 {
		t.Fatalf("a rollback and a read left %d transactions to ship; want 0", got)
	}
	if wp, _ := p.WritePosition(t.Context(), db); wp != before {
		t.Fatalf("the write position moved from %v to %v without a commit", before, wp)
	}

	stmt, err := db.Prepare("INSERT INTO t (v) VALUES (?)")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	blob := []byte("prepared")
	if _, err := stmt.Exec(blob); err != nil {
		t.Fatal(err)
	}
	blob[0] = 'X' // the log keeps its own copy
	var id int64
	if err := db.QueryRow("INSERT INTO t (v) VALUES (?) RETURNING id", "returning").Scan(&id); err != nil || id != 2 {
		t.Fatalf("INSERT … RETURNING = %d, %v; want id 2", id, err)
	}
	if got := p.Pending(); got != 2 {
		t.Fatalf("Pending = %d; want 2", got)
	}
	p.Resume()
	syncPair(t, p)
	rows, err := p.Replica().Query("SELECT id, CAST(v AS TEXT) FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id int
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id, "=", v))
	}
	if strings.Join(got, " ") != "1=prepared 2=returning" {
		t.Fatalf("replica rows %q; want 1=prepared 2=returning", got)
	}
}

func TestReplicaRefusesEveryKindOfWrite(t *testing.T) {
	p := newPair(t, replicatest.Options{})
	exec(t, p.Primary(), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	syncPair(t, p)
	r := p.Replica()
	if _, err := r.Exec("INSERT INTO t VALUES (1)"); err == nil {
		t.Error("Exec INSERT on the replica succeeded")
	}
	if err := r.QueryRow("INSERT INTO t VALUES (2) RETURNING id").Scan(new(int)); err == nil {
		t.Error("INSERT … RETURNING on the replica succeeded")
	}
	if tx, err := r.Begin(); err == nil {
		if _, err := tx.Exec("INSERT INTO t VALUES (3)"); err == nil {
			t.Error("INSERT in a replica transaction succeeded")
		}
		_ = tx.Rollback()
	}
	if _, err := p.WritePosition(t.Context(), r); !errors.Is(err, replicatest.ErrNotPrimary) {
		t.Errorf("WritePosition(replica) = %v; want ErrNotPrimary", err)
	}
	if got := ids(t, p.Primary()) + "|" + ids(t, r); got != "|" {
		t.Fatalf("rows on primary|replica: %q; want none", got)
	}
}

// TestConcurrentWritersReplicaConverges: writers racing on the primary, in
// autocommit and in transactions, end with the same rows on the replica.
func TestConcurrentWritersReplicaConverges(t *testing.T) {
	p := newPair(t, replicatest.Options{})
	db := p.Primary()
	exec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, w INTEGER NOT NULL, seq INTEGER NOT NULL)")
	exec(t, db, "CREATE TABLE counter (n INTEGER NOT NULL)")
	exec(t, db, "INSERT INTO counter VALUES (0)")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				id := w*1000 + i
				if i%2 == 0 {
					if _, err := db.Exec("INSERT INTO t VALUES (?, ?, (SELECT n FROM counter))", id, w); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				tx, err := db.Begin()
				if err == nil {
					_, err = tx.Exec("UPDATE counter SET n = n + 1")
				}
				if err == nil {
					_, err = tx.Exec("INSERT INTO t VALUES (?, ?, (SELECT n FROM counter))", id, w)
				}
				if err == nil {
					err = tx.Commit()
				} else if tx != nil {
					_ = tx.Rollback()
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	syncPair(t, p)
	digest := func(db *sql.DB) string {
		var s string
		if err := db.QueryRow("SELECT count(*) || ':' || group_concat(id || '/' || seq, ',') FROM (SELECT * FROM t ORDER BY id)").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if a, b := digest(db), digest(p.Replica()); a != b || !strings.HasPrefix(a, "100:") {
		t.Fatalf("primary %.60q…, replica %.60q…: want the same 100 rows", a, b)
	}
	wp, _ := p.WritePosition(t.Context(), db)
	st, _ := p.State(t.Context(), p.Replica())
	if wp != 103 || st.Position != wp {
		t.Fatalf("positions: primary %v, replica %+v; want 103 on both (3 setup + 100 writes)", wp, st)
	}
}

// TestDelayHoldsEachTransactionBack runs on the bubble's clock: a write
// reaches the replica Delay after its commit, not before, and the replica
// reports how long it has waited.
func TestDelayHoldsEachTransactionBack(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p, err := replicatest.New(replicatest.Options{Delay: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		exec(t, p.Primary(), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if p.Pending() != 1 {
			t.Fatalf("after 1.5 s of a 2 s delay: %d pending; want 1", p.Pending())
		}
		st, err := p.State(t.Context(), p.Replica())
		if err != nil || st.ReplayLag != 1500*time.Millisecond || st.Position != 0 {
			t.Fatalf("State(replica) = %+v, %v; want lag 1.5s at position 0", st, err)
		}
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if p.Pending() != 0 {
			t.Fatalf("after the delay: %d pending; want 0", p.Pending())
		}
		if ok, err := p.Reached(t.Context(), p.Replica(), 1); !ok || err != nil {
			t.Fatalf("Reached(1) = %v, %v after the delay", ok, err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSyncWaitsForResumeOrContext(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p, err := replicatest.New(replicatest.Options{Paused: true})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		exec(t, p.Primary(), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if err := p.Sync(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sync while paused = %v; want the context's deadline", err)
		}
		go func() {
			time.Sleep(time.Second)
			p.Resume()
		}()
		if err := p.Sync(t.Context()); err != nil {
			t.Fatalf("Sync across a Resume: %v", err)
		}
		if p.Pending() != 0 {
			t.Fatal("Sync returned with a transaction pending")
		}
	})
}

// TestReplayFailureStopsReplication: a replica that cannot replay a
// transaction stops there and says why, as a broken real one would.
func TestReplayFailureStopsReplication(t *testing.T) {
	dir := t.TempDir()
	p := newPair(t, replicatest.Options{Dir: dir})
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "replica.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exec(t, raw, "CREATE TABLE clash (x INTEGER)") // drift made behind the pair's back
	exec(t, p.Primary(), "CREATE TABLE clash (y INTEGER)")
	exec(t, p.Primary(), "CREATE TABLE after (z INTEGER)")
	err = p.Sync(t.Context())
	if !errors.Is(err, replicatest.ErrReplicationStopped) || !strings.Contains(err.Error(), "clash") {
		t.Fatalf("Sync = %v; want ErrReplicationStopped naming the statement", err)
	}
	if strings.Count(err.Error(), "replicatest:") != 1 {
		t.Fatalf("error %q repeats the package prefix", err)
	}
	if n, err := p.Step(1); n != 0 || !errors.Is(err, replicatest.ErrReplicationStopped) {
		t.Fatalf("Step after the failure = %d, %v", n, err)
	}
	if st, _ := p.State(t.Context(), p.Replica()); st.Position != 0 || st.ReplayLag == 0 {
		t.Fatalf("broken replica reports %+v; want position 0 and a lag", st)
	}
}

// TestPromoteLosesWhatWasNotReplayed: asynchronous replication loses the
// transactions the replica had not replayed when it was promoted.
func TestPromoteLosesWhatWasNotReplayed(t *testing.T) {
	p := newPair(t, replicatest.Options{})
	exec(t, p.Primary(), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	exec(t, p.Primary(), "INSERT INTO t VALUES (1)")
	syncPair(t, p)
	p.Pause()
	exec(t, p.Primary(), "INSERT INTO t VALUES (2)")
	if err := p.Promote(t.Context(), p.Replica()); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, p.Replica()); got != "1" {
		t.Fatalf("promoted replica has %q; want 1 (2 was never replayed)", got)
	}
	if err := p.Sync(t.Context()); !errors.Is(err, replicatest.ErrReplicationStopped) {
		t.Fatalf("Sync after promotion = %v; want ErrReplicationStopped", err)
	}
	exec(t, p.Replica(), "INSERT INTO t VALUES (3)")
	exec(t, p.Primary(), "INSERT INTO t VALUES (4)") // the old primary, still a primary: split brain
	if a, b := ids(t, p.Primary()), ids(t, p.Replica()); a != "1,2,4" || b != "1,3" {
		t.Fatalf("old primary %q, promoted %q; want 1,2,4 and 1,3", a, b)
	}
	old, _ := p.State(t.Context(), p.Primary())
	cur, _ := p.State(t.Context(), p.Replica())
	if old.Timeline != 1 || cur.Timeline != 2 || cur.Role != replica.RolePrimary {
		t.Fatalf("old %+v, promoted %+v; want timelines 1 and 2", old, cur)
	}
}

func TestOptionsAndClose(t *testing.T) {
	_, err := replicatest.New(replicatest.Options{Delay: -time.Second})
	if !errors.Is(err, replicatest.ErrInvalidOptions) || err.Error() != "replicatest: invalid options: Delay -1s: must be ≥ 0" {
		t.Fatalf("New(Delay -1s) = %v", err)
	}
	p, err := replicatest.New(replicatest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, p.Primary(), "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := p.Sync(t.Context()); !errors.Is(err, replicatest.ErrClosed) {
		t.Fatalf("Sync after Close = %v; want ErrClosed", err)
	}
	if _, err := p.Primary().Exec("INSERT INTO t VALUES (1)"); err == nil {
		t.Fatal("the primary took a write after Close")
	}
}

func TestQuerierOfAnotherDatabase(t *testing.T) {
	p := newPair(t, replicatest.Options{})
	other, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := p.State(t.Context(), other); !errors.Is(err, replicatest.ErrNotPair) {
		t.Fatalf("State(another database) = %v; want ErrNotPair", err)
	}
	q := newPair(t, replicatest.Options{})
	if _, err := p.State(t.Context(), q.Replica()); !errors.Is(err, replicatest.ErrNotPair) {
		t.Fatalf("State(another pair's replica) = %v; want ErrNotPair", err)
	}
	if _, err := p.WritePosition(t.Context(), q.Primary()); !errors.Is(err, replicatest.ErrNotPair) {
		t.Fatalf("WritePosition(another pair's primary) = %v; want ErrNotPair", err)
	}
}

// TestStatementsThatAreNotShipped: connection settings and maintenance run
// on their connection as they are (PRAGMA foreign_keys inside a shipped
// transaction would do nothing), transaction control as SQL text is
// refused, and savepoints replay to the same rows.
func TestStatementsThatAreNotShipped(t *testing.T) {
	p := newPair(t, replicatest.Options{})
	ctx := t.Context()
	conn, err := p.Primary().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec(t, conn, "CREATE TABLE parent (id INTEGER PRIMARY KEY)")
	exec(t, conn, "CREATE TABLE t (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id))")
	exec(t, conn, "PRAGMA foreign_keys = ON")
	if _, err := conn.ExecContext(ctx, "INSERT INTO t VALUES (1, 42)"); err == nil {
		t.Fatal("PRAGMA foreign_keys = ON did not take: a row with no parent was accepted")
	}
	exec(t, conn, "VACUUM")
	for _, q := range []string{"BEGIN", "begin immediate", "COMMIT", "END", "ROLLBACK"} {
		if _, err := conn.ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "BeginTx") {
			t.Errorf("Exec(%q) = %v; want it refused, naming BeginTx", q, err)
		}
	}

	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, tx, "INSERT INTO parent VALUES (1)")
	exec(t, tx, "SAVEPOINT s")
	exec(t, tx, "INSERT INTO parent VALUES (2)")
	exec(t, tx, "ROLLBACK TO s")
	exec(t, tx, "INSERT INTO parent VALUES (3)")
	exec(t, tx, "RELEASE s")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	syncPair(t, p)
	ids := func(db interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) string {
		var s sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT group_concat(id, ',') FROM (SELECT id FROM parent ORDER BY id)").Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s.String
	}
	if a, b := ids(conn), ids(p.Replica()); a != "1,3" || b != a {
		t.Fatalf("parent ids: primary %q, replica %q; want 1,3 on both", a, b)
	}
}
