package singlebox

import (
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// The move line is the advisor's, from the last step a rule fired in (not
// only the last step); with none, the note gives the box's own numbers:
// its peak CPU and whether throughput had stopped rising.
func TestMoveLineIsTheAdvisorsOrANoteWithTheNumbers(t *testing.T) {
	steps := func(tputs ...float64) *load.Result {
		r := &load.Result{}
		for i, tp := range tputs {
			r.Steps = append(r.Steps, load.StepResult{Step: i + 1, Workers: 1 << i, Stats: load.Stats{Throughput: tp, P99: time.Duration(i+1) * time.Millisecond}})
		}
		return r
	}
	fired := &stage.Report{Load: steps(100, 200, 210), Signals: []stage.StepSignals{
		{Step: 1, CPU: 0.5}, {Step: 2, CPU: 0.9, Moves: []stage.Move{{Rule: "web-single", Move: "put lb in front", Bottleneck: "saturated"}}}, {Step: 3, CPU: 0.79}}}
	if note := moveOf(fired, 1); note != "" || !strings.Contains(fired.Move, "put lb in front") {
		t.Fatalf("a rule fired in step 2: Move %q, note %q", fired.Move, note)
	}
	flat := &stage.Report{Load: steps(100, 400, 410), Signals: []stage.StepSignals{{Step: 1, CPU: 0.3}, {Step: 2, CPU: 0.7}, {Step: 3, CPU: 0.66}}}
	note := moveOf(flat, 1)
	if flat.Move != "" || !strings.Contains(note, "peaked at 70.00 % of its 1 core(s) (step 2)") || !strings.Contains(note, "stopped rising (400 → 410 req/s from 2 to 4 users)") {
		t.Fatalf("plateau without a rule: Move %q, note %q", flat.Move, note)
	}
	rising := &stage.Report{Load: steps(100, 200, 400), Signals: []stage.StepSignals{{Step: 3, CPU: 0.5}}}
	if note := moveOf(rising, 1); !strings.Contains(note, "still rising: raise -workers") {
		t.Fatalf("rising throughput: note %q", note)
	}
}
