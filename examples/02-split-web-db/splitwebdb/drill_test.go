package splitwebdb

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

func TestDatabaseRestartIsSurvived(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-quick", "-pg="}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	for _, want := range []string{"SQLite in its own process", "restart the database under load: HOLDS", "0 failed liveness checks",
		// The advisor's line, read while the database was down, names the
		// next rung's move (03: replicas, more web servers) with its numbers.
		"advisor: move now: give it a standby that takes over (a database: a replica with failover, package replica) and run more than one of each tier behind lb, because a dependency is down",
		"breakers.open 1 ≥ 1", "reads were "} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestBadInputFailsFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-down", "0s", "-step", "5ms"}, 2, "-step"},
		{[]string{"-pg", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"}, 1, "unreachable"},
		{[]string{"-pg", "::not a dsn::"}, 1, "postgres"},
		{[]string{"-kdf-iter", "2000000000"}, 2, "-kdf-iter"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		var out, errOut bytes.Buffer
		start := time.Now()
		code := run(ctx, tc.args, &out, &errOut)
		cancel()
		if code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d naming %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
		if time.Since(start) > 15*time.Second {
			t.Errorf("%q: took %v: must fail fast", tc.args, time.Since(start))
		}
	}
}

func TestDatabaseOutageIsSurvivedOnPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-quick", "-pg", pg.DSN}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	for _, want := range []string{"PostgreSQL", "terminated the web tier's PostgreSQL sessions", "restart the database under load: HOLDS"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
