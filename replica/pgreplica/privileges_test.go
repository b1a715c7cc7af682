package pgreplica_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

// TestPositionsNeedNoPrivileges: a role with no grants at all (what an
// application connects as) reads every node's role, position and timeline;
// only Promote needs more, and says so.
func TestPositionsNeedNoPrivileges(t *testing.T) {
	t.Parallel()
	pair := testenv.Replica(t)
	admin := pair.Primary.DB(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	role := "ladder_app_" + pair.Primary.Name[len("ladder_t_"):]
	if _, err := admin.ExecContext(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP ROLE IF EXISTS "+role)
	})
	asRole := func(dsn string) testenv.PG {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.User(role)
		return testenv.PG{DSN: u.String()}
	}
	primary, standby := asRole(pair.Primary.DSN).DB(t), asRole(pair.Replica.DSN).DB(t)
	testenv.WaitReplay(t, ctx, admin, pair.Replica.DB(t)) // the role exists on the standby

	pos := pgreplica.Positions{}
	p, err := pos.WritePosition(ctx, primary)
	if err != nil {
		t.Fatalf("WritePosition as a plain role: %v", err)
	}
	ps, err := pos.State(ctx, primary)
	if err != nil || ps.Role != replica.RolePrimary || ps.Timeline == 0 {
		t.Fatalf("State(primary) as a plain role = %+v, %v", ps, err)
	}
	rs, err := pos.State(ctx, standby)
	if err != nil || rs.Role != replica.RoleReplica || rs.Timeline != ps.Timeline {
		t.Fatalf("State(standby) as a plain role = %+v, %v; want a replica on timeline %d", rs, err, ps.Timeline)
	}
	if _, err := pos.Reached(ctx, standby, p); err != nil {
		t.Fatalf("Reached as a plain role: %v", err)
	}
	if err := pos.Promote(ctx, standby); err == nil {
		t.Fatal("a plain role promoted the standby")
	}
	if rs, err := pos.State(ctx, standby); err != nil || rs.Role != replica.RoleReplica {
		t.Fatalf("after a refused Promote: %+v, %v", rs, err)
	}
}
