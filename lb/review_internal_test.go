package lb

import (
	"math"
	"net/url"
	"strings"
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

// FuzzRetargetPrefix: whatever path a client sends, the backend's request
// stays under the backend's prefix, with no dot segment left to resolve.
func FuzzRetargetPrefix(f *testing.F) {
	for _, s := range []string{"/a/b", "/../x", "/%2e%2e/x", "/a%2Fb", "//x", "/a/./b/..", "", "/%2E./x", "/.%2e/%2e%2E/"} {
		f.Add(s)
	}
	target := &url.URL{Scheme: "http", Host: "b", Path: "/api"}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := url.ParseRequestURI("/" + strings.TrimPrefix(raw, "/"))
		if err != nil || u.Host != "" || u.Opaque != "" {
			return
		}
		out := retarget(u, target)
		p := out.EscapedPath()
		if !strings.HasPrefix(p, "/api/") {
			t.Fatalf("%q → %q: outside the prefix", raw, p)
		}
		for seg := range strings.SplitSeq(p, "/") {
			if d, err := url.PathUnescape(seg); err == nil && (d == "." || d == "..") {
				t.Fatalf("%q → %q: dot segment left", raw, p)
			}
		}
		if back, err := url.Parse(p); err != nil || back.EscapedPath() != p {
			t.Fatalf("%q → %q does not round-trip: %v %v", raw, p, back, err)
		}
	})
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
