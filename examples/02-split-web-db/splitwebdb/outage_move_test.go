package splitwebdb

import (
	"strings"
	"testing"

	"github.com/ladder-go/ladder/examples/app/stage"
)

// On a busy machine web-single fires beside dependency-down while the
// database is down; the drill's move is the outage's (CI saw web-single
// chosen because it is the advisor's first rule).
func TestOutageMovePrefersDependencyDown(t *testing.T) {
	a := stage.Advice{Moves: []stage.Move{
		{Rule: "web-single", Move: "put lb in front"},
		{Rule: "dependency-down", Move: "give it a standby"},
	}}
	if got := outageMove(a); !strings.Contains(got, "give it a standby") {
		t.Errorf("outageMove = %q, want the dependency-down move", got)
	}
	if got := outageMove(stage.Advice{Moves: []stage.Move{{Rule: "web-single", Move: "put lb in front"}}}); !strings.Contains(got, "put lb in front") {
		t.Errorf("outageMove without dependency-down = %q, want the first move", got)
	}
	if got := outageMove(stage.Advice{}); got != "" {
		t.Errorf("outageMove of no advice = %q, want empty", got)
	}
}
