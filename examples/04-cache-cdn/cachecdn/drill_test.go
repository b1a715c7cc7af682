package cachecdn

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/internal/testenv"
)

// runQuick runs the example with -quick and args, and returns its report.
func runQuick(t *testing.T, args ...string) (*stage.Report, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	path := filepath.Join(t.TempDir(), "report.json")
	var out, errOut bytes.Buffer
	if code := run(ctx, append([]string{"-quick", "-json", path}, args...), &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep stage.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	return &rep, out.String()
}

func drill(t *testing.T, rep *stage.Report, name string) stage.Drill {
	t.Helper()
	for _, d := range rep.Drills {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no drill %q in the report", name)
	return stage.Drill{}
}

// checkDrills asserts each drill's outcome from its numbers.
func checkDrills(t *testing.T, rep *stage.Report) {
	t.Helper()
	if !rep.Holds() {
		t.Errorf("a drill does not hold")
	}
	// A hot key's expiry: with protection at most one query per web
	// server, without it more (every reader that missed).
	s := drill(t, rep, drillStampede)
	bound := s.Numbers["bound"]
	if bound < 1 || s.Numbers["aside_queries_max"] > bound || s.Numbers["swr_queries_max"] > bound {
		t.Errorf("with stampede protection: %v", s.Numbers)
	}
	if s.Numbers["naive_queries_max"] <= bound {
		t.Errorf("without stampede protection only %v queries (bound %v): the stampede did not show", s.Numbers["naive_queries_max"], bound)
	}
	if s.Numbers["failed"] != 0 {
		t.Errorf("%v reads failed in the stampede drill", s.Numbers["failed"])
	}
	// The deploy: no 404 for the old page's assets, new hashes in new pages.
	d := drill(t, rep, drillDeploy)
	if d.Numbers["old_404"] != 0 || d.Numbers["failed"] != 0 || d.Numbers["during_fetches"] == 0 {
		t.Errorf("old assets after the deploy: %v", d.Numbers)
	}
	if d.Numbers["new_hashes"] == 0 {
		t.Errorf("the new page references no new hash")
	}
	if d.Numbers["without_previous_404"] == 0 {
		t.Errorf("without Previous no old URL answered 404: the drill shows nothing")
	}
	// The edge takes the assets off the origin.
	e := drill(t, rep, drillEdge)
	if e.Numbers["failed_views"] != 0 || e.Numbers["with_origin_per_view"] >= e.Numbers["without_origin_per_view"] {
		t.Errorf("edge: %v", e.Numbers)
	}
	if rep.Load == nil || len(rep.Load.Steps) == 0 || len(rep.Signals) == 0 {
		t.Errorf("no rising load or no signals in the report")
	}
	if !strings.HasPrefix(rep.Move, "move now: 05-multi-dc-sharding") {
		t.Errorf("Move = %q", rep.Move)
	}
}

// The whole walk, small, with the caches in the web servers' processes.
func TestDrillsHold(t *testing.T) {
	rep, out := runQuick(t, "-redis=")
	if !strings.Contains(rep.Ran["cache"], "in each web server's process") || !strings.Contains(out, "miniredis") {
		t.Errorf("ran: %v", rep.Ran)
	}
	checkDrills(t, rep)
}

// The same walk with the feed cache over a shared Redis tier
// (cache/rediscache) on redis-server.
func TestDrillsHoldOnSharedRedis(t *testing.T) {
	r := testenv.Redis(t)
	rep, _ := runQuick(t, "-redis", r.Addr)
	if !strings.Contains(rep.Ran["cache"], "rediscache") || !strings.Contains(rep.Ran["sessions"], r.Addr) {
		t.Errorf("ran: %v", rep.Ran)
	}
	checkDrills(t, rep)
}

func TestBadInputFailsFast(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-web", "0"}, 2, "-web 0"},
		{[]string{"-step", "5ms"}, 2, "-step"},
		{[]string{"-rtt", "-1s"}, 2, "-rtt"},
		{[]string{"-ttl", "1ms"}, 2, "-ttl"},
		{[]string{"-burst", "2"}, 2, "-burst"},
		{[]string{"-db-slots", "0"}, 2, "-db-slots"},
		{[]string{"-cache", "magic"}, 2, "-cache"},
		{[]string{"-no-such-flag"}, 2, "no-such-flag"},
		{[]string{"nonsense"}, 2, "unexpected arguments"},
		{[]string{"-kdf-iter", "2000000000"}, 2, "-kdf-iter"},
		{[]string{"-json", "/nonexistent-dir/report.json"}, 2, "-json"}, // refused before the run, not after it
		{[]string{"-redis", "127.0.0.1:1"}, 1, "unreachable"},
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

// Ctrl-C (the ctx of stage.Main) in the middle of the drills stops the run
// and every process it started.
func TestInterruptLeavesNothingBehind(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(4*time.Second, cancel)
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, []string{"-quick", "-redis="}, &out, &errOut)
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
