package stage

import (
	"fmt"
	"strings"

	"github.com/ladder-go/ladder/observe"
)

// RuleOn runs observe's default rule id on signals an example measured
// itself (where its advisor cannot see them: the queue's gauges live in
// the worker processes, the shard counts in the data tier). If the rule
// fires, move is its "move now because…" line; if not, why says which
// conditions the numbers missed, so a report never fakes a move.
func RuleOn(id string, s observe.Signals) (move, why string) {
	for _, r := range observe.DefaultRules {
		if r.ID != id {
			continue
		}
		ad, fired, err := r.Eval(s)
		if err != nil {
			return "", fmt.Sprintf("observe's rule %s failed: %v", id, err)
		}
		if fired {
			a := AdviceOf(observe.Report{Advice: []observe.Advice{ad}})
			return a.Moves[0].String(), ""
		}
		var parts []string
		for _, c := range r.When {
			v, ok := s[c.Signal]
			e := observe.Evidence{Signal: c.Signal, Value: v, Op: c.Op, Threshold: c.Threshold}
			switch {
			case !ok:
				parts = append(parts, c.Signal+" not measured")
			case (c.Op == observe.Below) == (v < c.Threshold):
				parts = append(parts, e.String()+" (met)")
			default:
				parts = append(parts, fmt.Sprintf("%s: needs %s %s %v", e.Signal, formatNum(v), c.Op, c.Threshold)+" (not met)")
			}
		}
		return "", fmt.Sprintf("observe's rule %s (%q) does not fire: %s", id, r.Move, strings.Join(parts, ", "))
	}
	return "", "observe has no rule " + id
}

func formatNum(v float64) string { return fmt.Sprintf("%.3g", v) }
