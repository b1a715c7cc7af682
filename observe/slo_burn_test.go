package observe

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// stream adds perMin events a minute, badPerMil of every 1000 failing, for d.
func stream(s *SLO, d time.Duration, perMin, badPerMil int64) {
	for range int(d / time.Minute) {
		s.Add(perMin, perMin*badPerMil/1000)
		time.Sleep(time.Minute)
	}
}

func firing(st SLOStatus) [3]bool {
	var f [3]bool
	for i, w := range st.Windows {
		f[i] = w.Firing
	}
	return f
}

// One synthetic error stream per workbook row, at a burn rate between that
// row's factor and the next more severe one: only the intended rows fire.
func TestBurnRateWindows(t *testing.T) {
	cases := []struct {
		name      string
		d         time.Duration
		badPerMil int64 // over an objective of 0.999 (budget 1 per mil): burn = badPerMil
		want      [3]bool
		severity  string
	}{
		{"fast burn pages over 1h and 5m", 65 * time.Minute, 20, [3]bool{true, true, true}, "page"},
		{"medium burn pages over 6h and 30m", 6*time.Hour + 5*time.Minute, 10, [3]bool{false, true, true}, "page"},
		{"slow burn tickets over 3d and 6h", 72*time.Hour + 5*time.Minute, 2, [3]bool{false, false, true}, "ticket"},
		{"on budget fires nothing", 72 * time.Hour, 1, [3]bool{}, ""},
		{"clean traffic fires nothing", 2 * time.Hour, 0, [3]bool{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			testenv.Bubble(t, func(t *testing.T) {
				s, err := NewSLO("api", SLOOptions{Objective: 0.999})
				if err != nil {
					t.Fatal(err)
				}
				stream(s, c.d, 1000, c.badPerMil)
				st := s.Status()
				if got := firing(st); got != c.want || st.Firing != c.severity {
					t.Errorf("firing %v %q, want %v %q; windows %+v", got, st.Firing, c.want, c.severity, st.Windows)
				}
			})
		})
	}
}

// The short window resets an alert soon after the errors stop, although the
// long window still remembers them.
func TestShortWindowEndsAlertSoonAfterRecovery(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		s, _ := NewSLO("api", SLOOptions{Objective: 0.999})
		stream(s, time.Hour, 1000, 50)
		if st := s.Status(); !st.Windows[0].Firing {
			t.Fatalf("50× burn for an hour did not page: %+v", st.Windows[0])
		}
		stream(s, 6*time.Minute, 1000, 0)
		st := s.Status()
		if w := st.Windows[0]; w.Firing || w.LongBurn <= w.Factor {
			t.Errorf("after 6 clean minutes: firing %v, long burn %v (want not firing, long burn still > %v)", w.Firing, w.LongBurn, w.Factor)
		}
	})
}

// The short window alone cannot page: a 5-minute spike is not an hour's burn.
func TestSpikeInShortWindowOnlyDoesNotPage(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		s, _ := NewSLO("api", SLOOptions{Objective: 0.999})
		stream(s, 55*time.Minute, 1000, 0)
		stream(s, 5*time.Minute, 1000, 100) // 100× for 5 of 60 minutes: 8.3× over the hour
		st := s.Status()
		if w := st.Windows[0]; w.Firing || w.ShortBurn <= w.Factor {
			t.Errorf("spike: %+v, want short burn over the factor but not firing", w)
		}
	})
}

func TestMinimumTrafficGuard(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		s, _ := NewSLO("admin", SLOOptions{Objective: 0.999})
		for range 60 { // one good request a minute, then three failures
			s.Add(1, 0)
			time.Sleep(time.Minute)
		}
		s.Add(3, 3)
		st := s.Status()
		if w := st.Windows[0]; w.Firing || !w.Guarded {
			t.Errorf("63 events, 3 bad: %+v, want guarded, not firing", w)
		}
		off, _ := NewSLO("admin", SLOOptions{Objective: 0.999, MinEvents: -1})
		off.Add(3, 3)
		if st := off.Status(); !st.Windows[0].Firing {
			t.Errorf("guard off: %+v, want firing", st.Windows[0])
		}
	})
}

func TestObserveCumulativeCounters(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		s, _ := NewSLO("api", SLOOptions{Objective: 0.99, MinEvents: -1})
		s.Observe(5000, 10) // the first reading is a baseline, not an event burst
		s.Observe(6000, 60) // +1000, +50 bad
		s.Observe(100, 0)   // the process restarted: counted from zero
		w := s.Status().Windows[0]
		if w.LongEvents != 1100 || w.LongBurn < 4.5 || w.LongBurn > 4.6 {
			t.Errorf("%+v, want 1100 events, burn 50/1100/0.01 ≈ 4.55", w)
		}
		s.Add(-5, 9) // nonsense is clamped, never panics
	})
}

func TestSLOOptionsInvalid(t *testing.T) {
	for name, o := range map[string]SLOOptions{
		"no objective":      {},
		"objective 1":       {Objective: 1},
		"negative res":      {Objective: 0.9, Resolution: -1},
		"res over short":    {Objective: 0.9, Resolution: 10 * time.Minute},
		"short ≥ long":      {Objective: 0.9, Windows: []BurnWindow{{"page", time.Hour, time.Hour, 2}}},
		"zero factor":       {Objective: 0.9, Windows: []BurnWindow{{"page", time.Hour, time.Minute, 0}}},
		"no severity":       {Objective: 0.9, Windows: []BurnWindow{{"", time.Hour, time.Minute, 2}}},
		"NaN objective":     {Objective: nan()},
		"negative objectiv": {Objective: -0.5},
	} {
		if _, err := NewSLO("x", o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%s: %v, want ErrInvalidOptions", name, err)
		}
	}
	if _, err := NewSLO("", SLOOptions{Objective: 0.9}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty name: %v", err)
	}
}

func TestSLOObservesHTTPServerSignals(t *testing.T) {
	f := newFakeService(t)
	s, _ := NewSLO("api", SLOOptions{Objective: 0.99, MinEvents: -1})
	f.step()
	snap, _ := Collect(context.Background(), f.reader)
	s.ObserveHTTP(snap) // baseline
	f.step()            // 230 requests, 5 of them 503
	snap, _ = Collect(context.Background(), f.reader)
	s.ObserveHTTP(snap)
	if w := s.Status().Windows[0]; w.LongEvents != 230 || w.LongBurn < 2.17 || w.LongBurn > 2.18 {
		t.Errorf("%+v, want 230 events, 5 bad: burn 5/230/0.01 ≈ 2.17", w)
	}
}
