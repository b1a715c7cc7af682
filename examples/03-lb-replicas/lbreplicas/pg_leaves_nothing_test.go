package lbreplicas

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/internal/testenv"
)

// The operator's database (-pg-primary) is left as it was found: the run's
// tables live in a schema of its own, dropped at exit, so runs neither pile
// rows up in it nor share a feed when two run at once.
func TestPostgresRunLeavesNoTables(t *testing.T) {
	pg := testenv.Replica(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-quick", "-pg-primary", pg.Primary.DSN, "-pg-replica", pg.Replica.DSN}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	db, err := app.OpenPostgres(ctx, pg.Primary.DSN, app.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables, schemas int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_namespace
		WHERE nspname NOT LIKE 'pg\_%' AND nspname NOT IN ('public', 'information_schema')`).Scan(&schemas); err != nil {
		t.Fatal(err)
	}
	if tables != 0 || schemas != 0 {
		t.Errorf("after the run the database holds %d tables and %d schemas of it, want 0 and 0", tables, schemas)
	}
}
