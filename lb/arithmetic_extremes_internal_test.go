package lb

import (
	"math"
	"testing"
	"time"
)

func TestSpillNeverNaN(t *testing.T) {
	for _, over := range []float64{math.SmallestNonzeroFloat64, 1e-320, 1, 1.4, math.Inf(1)} {
		cum := spill([]float64{0.5, 0.5, 1}, over, false)
		for i, c := range cum {
			if c > 1<<32 || (i > 0 && c < cum[i-1]) {
				t.Errorf("over %g: cum %v", over, cum)
			}
		}
		if len(cum) > 0 && cum[0] == 0 && over >= 1 {
			t.Errorf("over %g: nearest zone gets nothing: %v", over, cum)
		}
	}
}

func TestSlowStartFactorWithClockBehind(t *testing.T) {
	o := SlowStartOptions{Window: time.Minute, Aggression: 2}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f, ramp := o.factor(now.Add(time.Second), now) // admitted "in the future"
	if math.IsNaN(f) || f < o.MinWeight || f > 1 || !ramp {
		t.Errorf("factor = %v, %v", f, ramp)
	}
}

func TestRetryOptionsExtremes(t *testing.T) {
	for _, o := range []RetryOptions{{Budget: math.Inf(1)}, {Budget: 1e300}, {MinRetries: math.MaxInt}} {
		if err := o.validate(); err == nil {
			b := newBudget(o)
			if b.deposit < 0 || b.limit < 0 || b.balance.Load() < 0 {
				t.Errorf("%+v: accepted with deposit %d, limit %d", o, b.deposit, b.limit)
			}
		}
	}
}

func TestEjectionTimeSaturates(t *testing.T) {
	o := OutlierOptions{BaseEjectionTime: math.MaxInt64 / 2, MaxEjectionTime: math.MaxInt64 - 1}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	for n := 1; n < 5; n++ {
		if d := o.ejectionTime(n); d < o.BaseEjectionTime || d > o.MaxEjectionTime {
			t.Errorf("ejection %d lasts %v", n, d)
		}
	}
}
