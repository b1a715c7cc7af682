package stage_test

import (
	"strings"
	"testing"

	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/observe"
)

func TestRuleOnFiresOrSaysWhyNot(t *testing.T) {
	move, why := stage.RuleOn("shard-hot", observe.Signals{observe.SigShardSkew: 3.5})
	if why != "" || !strings.HasPrefix(move, "move now: split the hot shard") || !strings.Contains(move, "shard.skew 3.5 ≥ 2") {
		t.Errorf("fired: %q %q", move, why)
	}
	move, why = stage.RuleOn("queue-workers", observe.Signals{observe.SigQueueAge: 0.8, observe.SigQueueAgeGrowth: 0.9})
	if move != "" || !strings.Contains(why, "queue-workers") || !strings.Contains(why, "needs 0.8 ≥ 30 (not met)") || !strings.Contains(why, "queue.oldest_age.growth 0.9 ≥ 0.5 (met)") {
		t.Errorf("not fired: %q %q", move, why)
	}
	if _, why := stage.RuleOn("nope", nil); !strings.Contains(why, "no rule") {
		t.Errorf("unknown rule: %q", why)
	}
}
