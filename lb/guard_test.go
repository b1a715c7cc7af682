package lb_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/lb"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type pickerFunc func(uint64, bool) int

func (f pickerFunc) Pick(k uint64, keyed bool) int { return f(k, keyed) }

// A custom policy that panics or returns nonsense degrades to round robin,
// logged once; requests keep being served and nothing panics.
func TestBrokenCustomPolicyFallsBackToRoundRobin(t *testing.T) {
	for name, pol := range map[string]lb.Policy{
		"pick panics": lb.PolicyFunc(func(lb.PickerConfig) lb.Picker { return pickerFunc(func(uint64, bool) int { panic("boom") }) }),
		"index too large": lb.PolicyFunc(func(c lb.PickerConfig) lb.Picker {
			return pickerFunc(func(uint64, bool) int { return len(c.Endpoints) })
		}),
		"negative index":        lb.PolicyFunc(func(lb.PickerConfig) lb.Picker { return pickerFunc(func(uint64, bool) int { return -3 }) }),
		"NewPicker panics":      lb.PolicyFunc(func(lb.PickerConfig) lb.Picker { panic("no picker") }),
		"NewPicker returns nil": lb.PolicyFunc(func(lb.PickerConfig) lb.Picker { return nil }),
	} {
		t.Run(name, func(t *testing.T) {
			var logs syncBuffer
			p, err := lb.NewPool([]lb.Backend[string]{{Value: "a"}, {Value: "b"}, {Value: "c"}},
				lb.PoolOptions{Policy: pol, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			seen := map[string]int{}
			for range 30 {
				v, done, err := p.Pick()
				if err != nil {
					t.Fatal(err)
				}
				done(lb.Outcome{})
				seen[v]++
			}
			if seen["a"] != 10 || seen["b"] != 10 || seen["c"] != 10 {
				t.Errorf("picks %v, want round robin", seen)
			}
			// Rebuilding the pickers (every membership or health change)
			// does not log the same failure again.
			for _, down := range []bool{true, false, true, false} {
				p.SetDown("b", down)
				_, done, err := p.Pick()
				if err != nil {
					t.Fatal(err)
				}
				done(lb.Outcome{})
			}
			if n := strings.Count(logs.String(), "custom policy failed"); n != 1 {
				t.Errorf("logged %d times, want once:\n%s", n, logs.String())
			}
		})
	}
}

// A panicking IsFailure hook does not reach the caller of done: the
// outcome is classified by the default, and the panic is logged once.
func TestPanickingIsFailureUsesDefault(t *testing.T) {
	var logs syncBuffer
	p, err := lb.NewPool([]lb.Backend[string]{{Value: "a"}}, lb.PoolOptions{
		IsFailure: func(lb.Outcome) bool { panic("hook bug") },
		Outlier:   lb.OutlierOptions{Consecutive: 2},
		Logger:    slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for range 3 {
		_, done, err := p.Pick()
		if err != nil {
			t.Fatal(err)
		}
		done(lb.Outcome{Err: errors.New("refused")}) // a failure by the default
	}
	if h, _ := p.Healthy(); h != 0 {
		t.Errorf("healthy = %d after failures classified by the default; want the backend ejected", h)
	}
	if n := strings.Count(logs.String(), "IsFailure panicked"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}
}
