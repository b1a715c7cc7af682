package shard_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// noPanic runs f and reports a panic as a test failure naming what.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", what, p)
		}
	}()
	f()
}

// A zero Router (no map yet), a zero or nil Map and zero-value strategies
// (declared, not built by their constructors) answer with no shard (-1,
// "") or an error: nothing panics on them.
func TestZeroValuesDoNotPanic(t *testing.T) {
	h := shard.KeyString("user-1")
	noPanic(t, "zero Router.Shard", func() {
		var r shard.Router
		if got := r.Shard(h); got != -1 {
			t.Errorf("zero Router.Shard = %d, want -1", got)
		}
	})
	for name, m := range map[string]*shard.Map{"zero": {}, "nil": nil} {
		noPanic(t, name+" Map", func() {
			if got := m.Shard(h); got != -1 {
				t.Errorf("%s Map.Shard = %d, want -1", name, got)
			}
			if got := m.Name(h); got != "" {
				t.Errorf("%s Map.Name = %q, want \"\"", name, got)
			}
			if m.Len() != 0 || m.Index("a") != -1 || m.Version() != 0 || m.Shards() != nil {
				t.Errorf("%s Map: Len %d Index %d Version %d Shards %v", name, m.Len(), m.Index("a"), m.Version(), m.Shards())
			}
			_ = m.String()
			if _, err := m.WithOverride(2, h, "a"); !errors.Is(err, shard.ErrInvalidOptions) {
				t.Errorf("%s Map.WithOverride: %v", name, err)
			}
			j, _ := shard.NewJump(2)
			good, _ := shard.NewMap(1, []string{"a", "b"}, j)
			if _, err := shard.Plan(m, good, shard.PlanOptions{Samples: 16}); !errors.Is(err, shard.ErrInvalidOptions) {
				t.Errorf("Plan from a %s Map: %v", name, err)
			}
			if _, err := shard.Plan(good, m, shard.PlanOptions{Samples: 16}); !errors.Is(err, shard.ErrInvalidOptions) {
				t.Errorf("Plan to a %s Map: %v", name, err)
			}
		})
	}
	strategies := []shard.Strategy{
		&shard.Modulo{}, &shard.Jump{}, &shard.Rendezvous{}, &shard.Maglev{},
		&shard.Consistent{}, &shard.Ranges{}, &shard.Directory{},
		(*shard.Modulo)(nil), (*shard.Jump)(nil), (*shard.Rendezvous)(nil), (*shard.Maglev)(nil),
		(*shard.Consistent)(nil), (*shard.Ranges)(nil), (*shard.Directory)(nil),
	}
	for _, s := range strategies {
		what := fmt.Sprintf("%T(%v)", s, s)
		noPanic(t, what, func() {
			if s.Len() != 0 {
				t.Errorf("%s.Len() = %d, want 0", what, s.Len())
			}
			if got := s.Shard(h); got != -1 {
				t.Errorf("%s.Shard = %d, want -1 (no shard)", what, got)
			}
			if _, err := shard.NewMap(1, []string{"a"}, s); !errors.Is(err, shard.ErrInvalidOptions) {
				t.Errorf("NewMap over %s: %v", what, err)
			}
			if _, err := shard.NewDirectory(s, nil, shard.DirectoryOptions{}); !errors.Is(err, shard.ErrInvalidOptions) {
				t.Errorf("NewDirectory over %s: %v", what, err)
			}
		})
	}
	noPanic(t, "zero Directory.With", func() {
		var d shard.Directory
		if _, err := d.With(h, 0); !errors.Is(err, shard.ErrInvalidOptions) {
			t.Errorf("zero Directory.With: %v", err)
		}
		_ = d.Without(h)
	})
}

// Hot's Capacity sizes its memory up front (16 summaries of Capacity
// counters): a huge value is a configuration error, not a crash.
func TestHotHugeCapacityIsAnError(t *testing.T) {
	for _, c := range []int{math.MaxInt, 1 << 40} {
		noPanic(t, fmt.Sprint("NewHot Capacity ", c), func() {
			h, err := shard.NewHot([]string{"a"}, shard.HotOptions{Capacity: c})
			if !errors.Is(err, shard.ErrInvalidOptions) {
				t.Errorf("NewHot Capacity %d: %v", c, err)
			}
			if h != nil {
				_ = h.Close()
			}
		})
	}
}

// A huge SampleEvery (sampling one call in 2⁶²) is a configuration error:
// scaling the sampled counts back up overflowed int64 and TopKeys reported
// negative counts.
func TestHotHugeSampleEveryIsAnError(t *testing.T) {
	for _, n := range []int{math.MaxInt, 1 << 40} {
		h, err := shard.NewHot([]string{"a"}, shard.HotOptions{SampleEvery: n, Rand: func() uint64 { return 0 }})
		if err == nil {
			for range 3 {
				h.Record(0, 42)
			}
			top := h.TopKeys(1)
			_ = h.Close()
			t.Errorf("NewHot SampleEvery %d accepted; TopKeys %+v", n, top)
			continue
		}
		if !errors.Is(err, shard.ErrInvalidOptions) {
			t.Errorf("NewHot SampleEvery %d: %v", n, err)
		}
	}
}

// Swap refuses a map with no shards (a zero Map): the router would route
// nothing.
func TestSwapRefusesAnEmptyMap(t *testing.T) {
	var r shard.Router
	if err := r.Swap(nil, &shard.Map{}); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Fatalf("Swap to a zero Map: %v", err)
	}
	if r.Map() != nil {
		t.Fatalf("router holds %v", r.Map())
	}
}
