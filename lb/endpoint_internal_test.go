package lb

import (
	"math"
	"testing"
)

func TestExpNeg(t *testing.T) {
	for x := 0.0; x < 20; x += 0.01 {
		got, want := expNeg(x), math.Exp(-x)
		if math.Abs(got-want) > 0.02 {
			t.Fatalf("expNeg(%v) = %v, want %v", x, got, want)
		}
	}
	if expNeg(-1) != 1 || expNeg(math.Inf(1)) != 0 {
		t.Error("bounds")
	}
}

// Flow words add up: picks and dones spread over cells, in any order,
// decode from the sum; a sum that caught a done before its pick reads −1 in
// flight, not a wrapped count.
func TestFlowWordsAddUp(t *testing.T) {
	var cells [3]uint64
	for i := range 10 {
		cells[i%3] += flowBegin
	}
	for i := range 7 {
		cells[(i+1)%3] += flowEnd
	}
	fc := decodeFlow(cells[0] + cells[1] + cells[2])
	if fc.inflight != 3 || fc.completed != 7 {
		t.Errorf("decoded %+v, want 3 in flight, 7 completed", fc)
	}
	if fc := decodeFlow(flowEnd); fc.inflight != -1 {
		t.Errorf("a lone done decodes as %+v, want −1 in flight", fc)
	}
	var f flow
	f.w.Store(flowBegin * 5)
	if f.inflight() != 5 {
		t.Errorf("inflight = %d, want 5", f.inflight())
	}
}
