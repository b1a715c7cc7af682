package multidc

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/internal/testenv"
)

// quickRun runs the example with -quick and args, and returns its report.
func quickRun(t *testing.T, args ...string) (*stage.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	js := filepath.Join(t.TempDir(), "report.json")
	var out, errOut bytes.Buffer
	if code := run(ctx, append([]string{"-quick", "-json", js}, args...), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep stage.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep, out.String()
}

// checkDrills asserts what each drill must show, from the report's numbers.
func checkDrills(t *testing.T, rep *stage.Report, out string) {
	t.Helper()
	if len(rep.Drills) != 3 {
		t.Fatalf("%d drills, want 3:\n%s", len(rep.Drills), out)
	}
	for _, d := range rep.Drills {
		if !d.Holds {
			t.Errorf("drill %q does not hold: %s", d.Name, d.Outcome)
		}
	}
	region, reshard, hot := rep.Drills[0].Numbers, rep.Drills[1].Numbers, rep.Drills[2].Numbers
	// 1. Traffic shifted to the west with few failures; what the copy lost
	// is counted (it may be 0 on a quiet machine, never negative).
	if region["shift_seconds"] < 0 || region["failed_after_kill"] > max(region["requests_after_kill"]/50, 5) || region["tail_errors"] != 0 {
		t.Errorf("region drill: %v", region)
	}
	if region["lost_writes"] < 0 || region["ledger_lost"] > region["ledger_acked_east"] {
		t.Errorf("region drill's loss accounting: %v", region)
	}
	// 2. No row lost in the reshard, every acknowledged write found, about
	// a fifth of the keys moved.
	if reshard["rows_lost"] != 0 || reshard["ledger_missing"] != 0 || reshard["moved_share"] < 0.12 || reshard["moved_share"] > 0.28 {
		t.Errorf("reshard drill: %v", reshard)
	}
	// 3. The hot tenant was named and isolated, and the other tenants'
	// shards are more even than before.
	if hot["skew_after"] >= hot["skew_before"] || hot["hot_share"] < 0.2 || hot["failed"] != 0 {
		t.Errorf("hot tenant drill: %v", hot)
	}
	// The last rung's advisor line: the shard rule on the skew shard.Hot
	// measured before the isolation (a move when it reaches the rule's
	// threshold, else a note saying it did not), and after it no move.
	fired := strings.HasPrefix(rep.Move, "move now: split the hot shard, or isolate its hot key") && strings.Contains(rep.Move, "because one shard is hot (shard.skew ")
	if hot["skew_before"] >= 2 && !fired {
		t.Errorf("skew %.2f before the isolation and no shard-hot move: %q\n%s", hot["skew_before"], rep.Move, out)
	}
	if hot["skew_before"] < 2 && (rep.Move != "" || !strings.Contains(strings.Join(rep.Notes, "\n"), "before the isolation: observe's rule shard-hot")) {
		t.Errorf("skew %.2f: want a note, not a move: %q", hot["skew_before"], rep.Move)
	}
	if hot["skew_after"] < 2 && !strings.Contains(strings.Join(rep.Notes, "\n"), "after the isolation (the move the drill made): observe's rule shard-hot") {
		t.Errorf("no note on the skew after the isolation: %q", rep.Notes)
	}
	// Before the drill the nearest region takes the traffic (a probe that
	// times out on a busy machine may spill a little to the far one).
	var near float64
	for _, n := range rep.Notes {
		fmt.Sscanf(n, "locality: %g", &near)
	}
	if near < 0.9 {
		t.Errorf("%.2f of the traffic stayed in the nearest region before the drill, want ≥ 0.9:\n%s", near, out)
	}
}

func TestDrillsHoldOnSQLite(t *testing.T) {
	rep, out := quickRun(t, "-pg=")
	if !strings.Contains(rep.Ran["sql"], "SQLite files") {
		t.Errorf("ran %q, want SQLite", rep.Ran["sql"])
	}
	checkDrills(t, rep, out)
}

func TestDrillsHoldOnPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	rep, out := quickRun(t, "-pg", pg.DSN)
	if !strings.Contains(rep.Ran["sql"], "shard.Migration") {
		t.Errorf("ran %q, want PostgreSQL with shard.Migration", rep.Ran["sql"])
	}
	checkDrills(t, rep, out)
	// The run's databases are gone.
	tag := regexp.MustCompile(`\((ex05_[0-9_]+)_\*\)`).FindStringSubmatch(rep.Ran["sql"])
	if tag == nil {
		t.Fatalf("no database prefix in %q", rep.Ran["sql"])
	}
	db, err := sql.Open("pgx", pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)`, tag[1]+"_").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d databases %s_* left behind", n, tag[1])
	}
}

func TestBadInputFailsFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-step", "5ms"}, 2, "-step"},
		{[]string{"-lag", "-1s"}, 2, "-lag"},
		{[]string{"-webs", "9"}, 2, "-webs"},
		{[]string{"-seed", "3"}, 2, "-seed"},
		{[]string{"-kdf-iter", "5"}, 2, "-kdf-iter"},
		{[]string{"-kdf-iter", "2000000000"}, 2, "-kdf-iter"},
		{[]string{"-nope"}, 2, "-nope"},
		{[]string{"extra"}, 2, "unexpected"},
		{[]string{"-pg", "::not a dsn::"}, 2, "postgres DSN"},
		{[]string{"-pg", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"}, 1, "unreachable"},
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

// Ctrl-C (the ctx of signal.NotifyContext) stops the run and every process
// it started.
func TestInterruptLeavesNothingBehind(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(2*time.Second, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-quick", "-pg=", "-step", "5s"}, &out, &errOut)
	if code == 0 {
		t.Fatalf("an interrupted run exited 0:\n%s", out.String())
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if kids := proc.Children(); len(kids) > 0 {
		t.Fatalf("processes left behind: %v", kids)
	}
}
