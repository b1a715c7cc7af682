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
