package shard_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ladder-go/ladder/shard"
)

// migrateChildEnv switches this test binary into the migrating process of
// TestDrillMigrationSurvivesSIGKILL: it holds "name=dsn;…" for shards a…e and
// ctl.
const migrateChildEnv = "LADDER_SHARD_MIGRATE_CHILD"

// TestMigrationChildProcess is not a test: re-executed by
// TestDrillMigrationSurvivesSIGKILL with migrateChildEnv set, it runs the
// migration, printing "batch" after each copied batch, until it is killed.
// Run directly, it returns at once.
func TestMigrationChildProcess(t *testing.T) {
	spec := os.Getenv(migrateChildEnv)
	if spec == "" {
		return
	}
	dbs := map[string]*sql.DB{}
	for _, kv := range strings.Split(spec, ";") {
		name, dsn, _ := strings.Cut(kv, "=")
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		dbs[name] = db
	}
	ctl := dbs["ctl"]
	delete(dbs, "ctl")
	j4, _ := shard.NewJump(4)
	j5, _ := shard.NewJump(5)
	from, _ := shard.NewMap(1, []string{"a", "b", "c", "d"}, j4)
	to, _ := shard.NewMap(2, []string{"a", "b", "c", "d", "e"}, j5)
	m, err := shard.NewMigration(ctl, dbs, migTable, shard.NewRouter(from), from, to, shard.MigrateOptions{
		Batch:  50,
		Logger: slog.New(slog.DiscardHandler),
		OnProgress: func(p shard.Progress) {
			if p.Phase == "copy" {
				fmt.Println("batch")
				time.Sleep(20 * time.Millisecond) // let the parent kill us mid-copy
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Copy(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("copied") // the parent kills us before this
	select {}
}

// The migrating process is SIGKILLed part way through the copy while a
// writer keeps writing; a new Migration in this process with the same ID
// resumes from the saved position, cuts over, and every row ends on the
// shard the new map names, none lost or duplicated.
func TestDrillMigrationSurvivesSIGKILL(t *testing.T) {
	t.Parallel()
	e := newMigEnv(t, migRows())
	var spec []string
	for name, dsn := range e.dsns {
		spec = append(spec, name+"="+dsn)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMigrationChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), migrateChildEnv+"="+strings.Join(spec, ";"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	stop := runWriter(t, e, 4)
	if err := cmd.Start(); err != nil {
		stop()
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	batches := 0
	for batches < 5 && lines.Scan() {
		if lines.Text() == "batch" {
			batches++
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if batches < 5 {
		stop()
		t.Fatalf("the migrating process ended after %d batches, before it was killed", batches)
	}
	m := e.migration(t, shard.MigrateOptions{Batch: 50})
	if p, _ := m.Phase(context.Background()); p != shard.PhaseCopying {
		stop()
		t.Fatalf("phase after the kill %q", p)
	}
	resumed := 0
	m = e.migration(t, shard.MigrateOptions{Batch: 50, OnProgress: func(p shard.Progress) {
		if p.Phase == "copy" {
			resumed++
		}
	}})
	if err := m.Run(context.Background()); err != nil {
		stop()
		t.Fatalf("resumed Run: %v", err)
	}
	e.waitOps(t, 50)
	stop()
	if err := m.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.checkPlaced(t, e.to)
	t.Logf("killed after %d batches; the resumed copy took %d", batches, resumed)
}
