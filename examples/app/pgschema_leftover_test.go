package app_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/internal/testenv"
)

// The child of TestRunSchemaOfKilledRunIsDropped.
func TestRunSchemaChild(t *testing.T) {
	dsn := os.Getenv("APP_SCHEMA_CHILD_DSN")
	if dsn == "" {
		t.Skip("run by TestRunSchemaOfKilledRunIsDropped")
	}
	s, err := app.CreateRunSchema(context.Background(), dsn, "ladder_extest_", "ladder-test")
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("SCHEMA " + s.Name + "\n")
	time.Sleep(time.Minute)
}

func schemaExists(t *testing.T, dsn, name string) bool {
	t.Helper()
	db, err := app.OpenPostgres(context.Background(), dsn, app.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// A run SIGKILLed leaves its schema behind; the next run with the same
// prefix drops it, and leaves a live run's alone.
func TestRunSchemaOfKilledRunIsDropped(t *testing.T) {
	dsn := testenv.Postgres(t).DSN
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRunSchemaChild$", "-test.v")
		cmd.Env = append(os.Environ(), "APP_SCHEMA_CHILD_DSN="+dsn)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "SCHEMA "); ok {
				return cmd, n
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the child printed no schema")
		return nil, ""
	}
	killed, dead := start()
	killed.Process.Kill()
	killed.Wait()
	if !schemaExists(t, dsn, dead) {
		t.Fatalf("the killed run's schema %s is gone already: the test shows nothing", dead)
	}
	live, alive := start()
	defer func() { live.Process.Kill(); live.Wait() }()
	// The server ends the killed session when it sees its socket closed:
	// the live child's sweep may have come first; this run's sweeps again.
	deadline := time.Now().Add(10 * time.Second)
	for schemaExists(t, dsn, dead) && time.Now().Before(deadline) {
		s, err := app.CreateRunSchema(context.Background(), dsn, "ladder_extest_", "ladder-test")
		if err != nil {
			t.Fatal(err)
		}
		s.Drop(context.Background())
		time.Sleep(100 * time.Millisecond)
	}
	if schemaExists(t, dsn, dead) {
		t.Errorf("the killed run's schema %s is still there", dead)
	}
	if !schemaExists(t, dsn, alive) {
		t.Errorf("a live run's schema %s was dropped", alive)
	}
	live.Process.Kill()
	live.Wait()
	// Clean after the live child, as the next run would.
	s, err := app.CreateRunSchema(context.Background(), dsn, "ladder_extest_", "ladder-test")
	if err == nil {
		s.Drop(context.Background())
	}
}
