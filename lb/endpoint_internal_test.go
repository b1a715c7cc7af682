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
	if fc.inflight != 3 || fc.started != 10 {
		t.Errorf("decoded %+v, want 3 in flight, 10 started", fc)
	}
	// A start alone (a bare pool's pick), and one taken back, add up too.
	w := uint64(flowBegin + 3*startDelta)
	w += ^uint64(startDelta - 1)
	if fc := decodeFlow(w); fc.inflight != 1 || fc.started != 3 {
		t.Errorf("starts without in flight decode as %+v, want 1 in flight, 3 started", fc)
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
