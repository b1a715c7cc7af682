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

func TestModulus(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 8, 10, 4096, 65537, 1<<31 - 1, 1 << 31, 1<<32 - 1} {
		d := newModulus(n)
		for _, x := range []uint32{0, 1, 2, 3, 5, 4095, 4096, 65536, 1<<31 - 1, 1 << 31, 1<<32 - 2, 1<<32 - 1, 123456789} {
			if got, want := d.of(x), int(uint64(x)%uint64(n)); got != want {
				t.Fatalf("%d mod %d = %d, want %d", x, n, got, want)
			}
		}
	}
}
