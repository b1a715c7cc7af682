package stage_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/observe"
)

func report() *stage.Report {
	return &stage.Report{
		Stage: "01-single-box", Title: "one box",
		Ran:     map[string]string{"sql": "SQLite"},
		Load:    &load.Result{Steps: []load.StepResult{{Step: 1, Workers: 4, Stats: load.Stats{Requests: 100, Throughput: 50, P50: time.Millisecond, P99: 9 * time.Millisecond}}}},
		Signals: []stage.StepSignals{{Step: 1, CPU: 0.93}},
		Drills:  []stage.Drill{{Name: "kill", Holds: true, Outcome: "all failed"}},
		Move:    "move now: add web servers",
	}
}

func TestReportPrintsTheNumbers(t *testing.T) {
	var sb strings.Builder
	report().Print(&sb)
	for _, want := range []string{"== 01-single-box: one box", "SQLite", "93%", "9ms", "drill kill:", "HOLDS", "move now: add web servers"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, sb.String())
		}
	}
}

func TestReportJSONRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.json")
	r := report()
	if err := r.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back stage.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Load.Steps[0].P99 != 9*time.Millisecond || !back.Holds() || back.Signals[0].CPU != 0.93 {
		t.Fatalf("round trip lost data: %+v", back)
	}
	back.Drills = append(back.Drills, stage.Drill{Name: "x"})
	if back.Holds() {
		t.Fatal("Holds with a failed drill")
	}
}

func TestMoveLineNamesTheEvidence(t *testing.T) {
	a := stage.AdviceOf(observe.Report{Advice: []observe.Advice{{Rule: "web-single", Bottleneck: "the box is saturated", Move: "add web servers",
		Evidence: []observe.Evidence{{Signal: observe.SigCPU, Value: 0.9, Op: observe.Above, Threshold: 0.8}}}}})
	if got := a.Moves[0].String(); !strings.Contains(got, "move now: add web servers, because the box is saturated") || !strings.Contains(got, "web.cpu 0.9 ≥ 0.8") {
		t.Fatalf("move line %q", got)
	}
}

// A figure a stage does not have prints "n/a", never a 0 it did not measure,
// and survives the JSON round trip as absent.
func TestFiguresSayNAForWhatAStageHasNot(t *testing.T) {
	f := stage.Figures{DBQueriesPerRequest: stage.PerRequest(3, 2), QueueOldestAge: stage.Some(1500 * time.Millisecond)}
	got := f.String()
	for _, want := range []string{"db queries/request 1.50", "cache hit ratio n/a", "queue depth n/a", "queue oldest age 1.5s"} {
		if !strings.Contains(got, want) {
			t.Errorf("figures %q lack %q", got, want)
		}
	}
	if stage.PerRequest(5, 0) != nil {
		t.Error("PerRequest of no request is not nil")
	}
	b, err := json.Marshal(stage.Report{Stage: "x", Figures: stage.Figures{QueueDepth: stage.Some(int64(0))}})
	if err != nil {
		t.Fatal(err)
	}
	if s := string(b); !strings.Contains(s, `"queue_depth":0`) || strings.Contains(s, "cache_hit_ratio") || strings.Contains(s, `"when"`) {
		t.Errorf("JSON %s", s)
	}
	var back stage.Report
	if err := json.Unmarshal(b, &back); err != nil || back.Figures.QueueDepth == nil || back.Figures.CacheHitRatio != nil {
		t.Errorf("round trip: %+v, %v", back.Figures, err)
	}
}

// Finish prints the advisor's line, each note once (not those PrintNotes
// printed before), the next line, writes the JSON and fails when a drill
// did not hold.
func TestFinishPrintsEachNoteOnceAndFailsOnAFailedDrill(t *testing.T) {
	r := report()
	r.Notes = []string{"early"}
	var sb strings.Builder
	r.PrintNotes(&sb)
	r.Notes = append(r.Notes, "late")
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.Finish(&sb, "next: 02", path); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	if strings.Count(out, "note: early") != 1 || strings.Count(out, "note: late") != 1 ||
		!strings.Contains(out, "advisor: move now: add web servers") || !strings.HasSuffix(out, "   next: 02\n") {
		t.Fatalf("Finish printed:\n%s", out)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	r.Drills = append(r.Drills, stage.Drill{Name: "x"})
	if err := r.Finish(&sb, "", ""); err == nil {
		t.Fatal("Finish with a failed drill returned nil")
	}
}
