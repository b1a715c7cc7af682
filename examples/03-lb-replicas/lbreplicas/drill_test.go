package lbreplicas

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/internal/testenv"
)

// The whole walk, small: every drill must hold (0 failed requests, POSTs
// included, and no POST done twice when a web server is SIGKILLed: POSTs
// carry an Idempotency-Key, so the proxy resends those the dead server had
// received; 0 failed requests in the rolling restart and the
// autoscaler's scale-in, 0 stale reads with read-your-writes, writes resume
// after the primary stops).
func TestDrillsHold(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	// Sessions in redis-server when LADDER_REDIS_ADDR is set (CI), else
	// miniredis; the in-process pair, so that drill 5 stops the primary.
	if code := run(ctx, []string{"-quick", "-pg-primary=", "-pg-replica="}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	t.Log(s)
	sessions := "miniredis"
	if a := os.Getenv("LADDER_REDIS_ADDR"); a != "" {
		sessions = "Redis at " + a
	}
	for _, want := range []string{sessions, "replicatest's pair", "read-your-writes off, ", "0 failed (0 reads, 0 POSTs)", "writes now go to replica (timeline 2)"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, name := range []string{"SIGKILL a web server under load", "rolling restart under load", "autoscale on the advisor's web-tier rule",
		"just posted, see your post", "stop the primary"} {
		if !regexp.MustCompile(`drill ` + regexp.QuoteMeta(name) + `: +HOLDS `).MatchString(s) {
			t.Errorf("drill %q does not hold", name)
		}
	}
	// The advisor's line over the rising load names the next rung's move
	// (04: a cache) with the numbers that fired it.
	if !regexp.MustCompile(`advisor: move now: cache the hot reads \(package cache[^\n]*because most of the database's statements are reads, already spread over replicas \(db.read_share 0.[0-9]+ ≥ 0.5, replica.lag [0-9.e-]+ ≥ 0, db.requests.rate [0-9.,]+ ≥ 20\)`).MatchString(s) {
		t.Errorf("no advisor line naming the cache")
	}
	if !regexp.MustCompile(`SIGKILLed with [0-9]+ users on [0-9]+ servers: [1-9][0-9]* requests, 0 failed \(0 reads, 0 POSTs\), [1-9][0-9]* POSTs stored once each, 0 twice`).MatchString(s) {
		t.Errorf("kill drill: failed requests or a POST done twice")
	}
	if !regexp.MustCompile(`on \(causal wait[^)]*\), 0 stale`).MatchString(s) {
		t.Errorf("read-your-writes on: stale reads")
	}
	if !regexp.MustCompile(`read-your-writes off, [1-9][0-9]* stale`).MatchString(s) {
		t.Errorf("read-your-writes off: no stale read, the replica's lag did not show")
	}
}

func TestBadInputFailsFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-web", "1"}, 2, "-web 1"},
		{[]string{"-step", "5ms"}, 2, "-step"},
		{[]string{"-pairs", "5"}, 2, "-pairs"},
		{[]string{"-pg-primary", "postgres://x@127.0.0.1:1/x", "-pg-replica="}, 2, "go together"},
		{[]string{"nonsense"}, 2, "unexpected arguments"},
		{[]string{"-kdf-iter", "2000000000"}, 2, "-kdf-iter"},
		{[]string{"-json", "/nonexistent-dir/report.json"}, 2, "-json"}, // refused before the run, not after it
		{[]string{"-redis", "127.0.0.1:1", "-pg-primary=", "-pg-replica="}, 1, "unreachable"},
		{[]string{"-redis=", "-pg-primary", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1", "-pg-replica", "postgres://nobody@127.0.0.1:1/x?connect_timeout=1"}, 1, "primary"},
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

// Ctrl-C (the ctx of signal.NotifyContext) in the middle of the drills stops
// the run and every process it started.
func TestInterruptLeavesNothingBehind(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(6*time.Second, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-quick", "-pg-primary=", "-pg-replica=", "-redis="}, &out, &errOut)
	if code == 0 {
		t.Fatalf("an interrupted run exited 0:\n%s", out.String())
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if kids := proc.Children(); len(kids) > 0 {
		t.Fatalf("processes left behind: %v\n%s", kids, out.String())
	}
}

// The walk on a private PostgreSQL primary and streaming replica, with
// sessions in redis-server when LADDER_REDIS_ADDR is set: the primary is
// SIGKILLed in drill 5 and the router promotes the replica (pg_promote).
// The CI run covers the same drills on the in-process pair; this one is
// LADDER_DRILL=full's (scripts/drill), to keep the package's race tests
// under a minute.
func TestDrillsHoldOnPostgres(t *testing.T) {
	if os.Getenv("LADDER_DRILL") != "full" {
		t.Skip("LADDER_DRILL=full runs the walk on a private PostgreSQL pair")
	}
	pg := testenv.StartPGPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	stop := func(context.Context) error { pg.Primary.Kill(); return nil }
	if code := runWith(ctx, []string{"-quick", "-pg-primary", pg.Primary.DSN, "-pg-replica", pg.Replica.DSN}, &out, &errOut, stop); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	t.Log(s)
	for _, want := range []string{"PostgreSQL primary and streaming replica", "writes now go to replica (timeline 2)"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !regexp.MustCompile(`on \(causal wait[^)]*\), 0 stale`).MatchString(s) {
		t.Errorf("read-your-writes on: stale reads")
	}
}
