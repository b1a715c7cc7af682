package observe_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/observe"
)

// Rule.Eval runs a rule on recorded signals as the advisor does.
func TestRuleEvalOnRecordedSignals(t *testing.T) {
	r := observe.Rule{ID: "q", Bottleneck: "b", Move: "m", When: []observe.Condition{{Signal: observe.SigQueueAge, Op: observe.Above, Threshold: 30}}}
	ad, fired, err := r.Eval(observe.Signals{observe.SigQueueAge: 45})
	if err != nil || !fired || ad.Rule != "q" || len(ad.Evidence) != 1 || ad.Evidence[0].String() != "queue.oldest_age 45 ≥ 30" {
		t.Errorf("%+v %v %v", ad, fired, err)
	}
	if _, fired, _ := r.Eval(observe.Signals{observe.SigQueueAge: 3}); fired {
		t.Error("fired below the threshold")
	}
	boom := observe.Rule{ID: "boom", Check: func(observe.Signals) (bool, []observe.Evidence) { panic("x") }}
	if _, fired, err := boom.Eval(nil); fired || !errors.Is(err, observe.ErrPanic) {
		t.Errorf("panicking Check: %v %v", fired, err)
	}
}
