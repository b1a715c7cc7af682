package replica_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/replica"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newRouter returns a router over the cluster's primary and the named
// replicas, closed when the test ends. Inside a bubble, it returns once the
// monitor's first probe round is done.
func newRouter(t *testing.T, c *cluster, opts replica.Options, replicas ...string) *replica.Router {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	r, err := replica.New(c.db("primary"), c.replicas(replicas...), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	settle()
	return r
}

// settle waits for the monitor to finish its round, inside a bubble.
func settle() {
	defer func() { _ = recover() }() // outside a bubble: nothing to wait for
	synctest.Wait()
}

// nextRound advances the bubble's clock by one probe interval.
func nextRound(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func set(t *testing.T, ctx context.Context, r *replica.Router, k, v string) {
	t.Helper()
	if _, err := r.ExecContext(ctx, "SET", k, v); err != nil {
		t.Fatalf("SET %s: %v", k, err)
	}
}

func get(t *testing.T, ctx context.Context, r *replica.Router, k string) string {
	t.Helper()
	var v string
	err := r.QueryRowContext(ctx, "GET", k).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("GET %s: %v", k, err)
	}
	return v
}

// session returns a context carrying a new session.
func session() (context.Context, *replica.Session) {
	s := new(replica.Session)
	return replica.NewContext(context.Background(), s), s
}
