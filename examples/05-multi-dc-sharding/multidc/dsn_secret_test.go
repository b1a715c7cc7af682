package multidc

import (
	"strings"
	"testing"
	"time"
)

// A PostgreSQL password must not reach stderr (error messages) nor the
// children's command lines (readable by every user in /proc/<pid>/cmdline).
func TestDSNPasswordNotShown(t *testing.T) {
	for _, dsn := range []string{
		"host=127.0.0.1 port=1 user=x password=hunter2 dbname=d",
		"host=127.0.0.1 password = 'hunter2' dbname=d",
		"postgres://x:hunter2@127.0.0.1:1/d",
		"postgres://x@127.0.0.1:1/d?password=hunter2",
		"mysql://x:hunter2@h/d",
	} {
		if got := redactDSN(dsn); strings.Contains(got, "hunter2") {
			t.Errorf("redactDSN(%q) = %q: shows the password", dsn, got)
		}
		if _, err := withDatabase(dsn, "other"); err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("withDatabase(%q): error %q shows the password", dsn, err)
		}
	}
}

func TestDSNNotInChildArgs(t *testing.T) {
	c := config{pg: "postgres://x:hunter2@127.0.0.1:1/d", dbTag: "t", ship: time.Second}
	spec := dataSpec(c, "eu", "/tmp/x")
	if strings.Contains(strings.Join(spec.Args, " "), "hunter2") {
		t.Errorf("data child args %q hold the DSN's password", spec.Args)
	}
	found := false
	for _, e := range spec.Env {
		found = found || e == "LADDER_PG_PRIMARY="+c.pg
	}
	if !found {
		t.Errorf("data child env %q: want LADDER_PG_PRIMARY=<dsn>", spec.Env)
	}
}
