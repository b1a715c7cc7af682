package replica_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

// On replicatest's SQLite pair, whose replica really replays the primary's
// transactions 50 ms after they commit: the naive split misses the write,
// causal wait waits on the replica and reads it there.
func TestSQLitePairReadYourWrites(t *testing.T) {
	for _, tc := range []struct {
		mode      replica.ReadYourWrites
		want      int
		onReplica bool
	}{
		{replica.RYWOff, 0, true},
		{replica.RYWCausalWait, 1, true},
		{replica.RYWCausalFast, 1, false},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				pair, err := replicatest.New(replicatest.Options{Delay: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				defer pair.Close()
				r := newRouterOn(t, pair.Primary(), pair.Replica(), replica.Options{Positions: pair, ReadYourWrites: tc.mode})
				ctx := replica.NewContext(context.Background(), new(replica.Session))
				if _, err := r.ExecContext(ctx, "CREATE TABLE t (x INTEGER)"); err != nil {
					t.Fatal(err)
				}
				if err := pair.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := r.ExecContext(ctx, "INSERT INTO t VALUES (1)"); err != nil {
					t.Fatal(err)
				}
				var n int
				var onReplica bool
				// query_only is 1 on the replica, 0 on the primary.
				if err := r.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM t), (SELECT query_only FROM pragma_query_only)").Scan(&n, &onReplica); err != nil {
					t.Fatal(err)
				}
				if n != tc.want || onReplica != tc.onReplica {
					t.Fatalf("read %d row(s) on the replica: %v; want %d, %v", n, onReplica, tc.want, tc.onReplica)
				}
			})
		})
	}
}

func newRouterOn(t *testing.T, primary, rep *sql.DB, opts replica.Options) *replica.Router {
	t.Helper()
	opts.Logger = quiet
	r, err := replica.New(primary, []replica.Replica{{Name: "replica", DB: rep}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	settle()
	return r
}
