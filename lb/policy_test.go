package lb_test

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
)

func backends(names string, weights ...int) []lb.Backend[string] {
	var bs []lb.Backend[string]
	for i, n := range strings.Split(names, ",") {
		b := lb.Backend[string]{Name: n, Value: n}
		if i < len(weights) {
			b.Weight = weights[i]
		}
		bs = append(bs, b)
	}
	return bs
}

func seeded(seed uint64) func() uint64 {
	return rand.New(rand.NewPCG(seed, seed^0x5555)).Uint64
}

func newPool(t *testing.T, bs []lb.Backend[string], opts lb.PoolOptions) *lb.Pool[string] {
	t.Helper()
	if opts.Rand == nil {
		opts.Rand = seeded(1)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	p, err := lb.NewPool(bs, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// count picks n times, reporting success, and returns picks per name.
func count(t *testing.T, p *lb.Pool[string], n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		v, done, err := p.Pick()
		if err != nil {
			t.Fatal(err)
		}
		got[v]++
		done(lb.Outcome{})
	}
	return got
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.3f, want %.3f ± %.3f", what, got, want, tol)
	}
}

func TestWeightedRoundRobinNginxSequence(t *testing.T) {
	p := newPool(t, backends("a,b,c", 5, 1, 1), lb.PoolOptions{
		Policy: lb.WeightedRoundRobin(), Rand: func() uint64 { return 0 }})
	var seq []string
	for range 14 {
		v, done, _ := p.Pick()
		done(lb.Outcome{})
		seq = append(seq, v)
	}
	if got, want := strings.Join(seq, " "), "a a b a c a a a a b a c a a"; got != want {
		t.Errorf("sequence %q, want %q", got, want)
	}
}

func TestDistribution(t *testing.T) {
	const n = 70000
	tests := []struct {
		name    string
		policy  lb.Policy
		weights []int
		want    []float64 // shares of a, b, c
		tol     float64
	}{
		{"round robin", lb.RoundRobin(), nil, []float64{1. / 3, 1. / 3, 1. / 3}, 0.001},
		{"round robin ignores weights", lb.RoundRobin(), []int{5, 1, 1}, []float64{1. / 3, 1. / 3, 1. / 3}, 0.001},
		{"weighted round robin", lb.WeightedRoundRobin(), []int{5, 1, 1}, []float64{5. / 7, 1. / 7, 1. / 7}, 0.001},
		{"random", lb.Random(), nil, []float64{1. / 3, 1. / 3, 1. / 3}, 0.01},
		{"weighted random", lb.Random(), []int{5, 1, 1}, []float64{5. / 7, 1. / 7, 1. / 7}, 0.01},
		{"weighted random 1 2 7", lb.Random(), []int{1, 2, 7}, []float64{.1, .2, .7}, 0.01},
		{"least request", lb.LeastRequest(), nil, []float64{1. / 3, 1. / 3, 1. / 3}, 0.01},
		{"weighted least request", lb.LeastRequest(), []int{5, 1, 1}, []float64{5. / 7, 1. / 7, 1. / 7}, 0.01},
		{"peak ewma", lb.PeakEWMA(lb.PeakEWMAOptions{}), nil, []float64{1. / 3, 1. / 3, 1. / 3}, 0.01},
		{"hash without key", lb.Hash(lb.HashOptions{}), nil, []float64{1. / 3, 1. / 3, 1. / 3}, 0.01},
		{"first available", lb.FirstAvailable(), nil, []float64{1, 0, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, backends("a,b,c", tt.weights...), lb.PoolOptions{Policy: tt.policy})
			got := count(t, p, n)
			for i, name := range []string{"a", "b", "c"} {
				near(t, name, float64(got[name])/n, tt.want[i], tt.tol)
			}
		})
	}
}

func TestHashDistributionAndStability(t *testing.T) {
	for _, size := range []int{5, 100} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			var bs []lb.Backend[string]
			for i := range size {
				bs = append(bs, lb.Backend[string]{Name: fmt.Sprintf("b%d", i), Value: fmt.Sprintf("b%d", i)})
			}
			p := newPool(t, bs, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{})})
			const keys = 20000
			owner := make([]string, keys)
			per := map[string]int{}
			for k := range keys {
				v, done, err := p.PickKey(fmt.Sprintf("user-%d", k))
				if err != nil {
					t.Fatal(err)
				}
				done(lb.Outcome{})
				owner[k] = v
				per[v]++
			}
			mean := float64(keys) / float64(size)
			for name, c := range per {
				if float64(c) > 1.35*mean || float64(c) < 0.65*mean {
					t.Errorf("%s owns %d keys, mean %.0f", name, c, mean)
				}
			}
			if err := p.Update(bs[1:]); err != nil { // b0 leaves
				t.Fatal(err)
			}
			moved := 0
			for k := range keys {
				v, done, _ := p.PickKey(fmt.Sprintf("user-%d", k))
				done(lb.Outcome{})
				if owner[k] == "b0" {
					continue
				}
				if v != owner[k] {
					moved++
				}
			}
			if moved != 0 {
				t.Errorf("%d keys of staying backends moved, want 0", moved)
			}
		})
	}
}

func TestWeightedHash(t *testing.T) {
	p := newPool(t, backends("a,b", 3, 1), lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{})})
	got := map[string]int{}
	for k := range 20000 {
		v, done, _ := p.PickKey(fmt.Sprint(k))
		done(lb.Outcome{})
		got[v]++
	}
	near(t, "a share", float64(got["a"])/20000, 0.75, 0.02)
}

// TestWeightedHashIgnoresRendezvousMax: the deprecated option changes nothing.
func TestWeightedHashIgnoresRendezvousMax(t *testing.T) {
	bs := backends("a,b,c", 2, 1, 1)
	p := newPool(t, bs, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{RendezvousMax: 1})})
	got := map[string]int{}
	for k := range 20000 {
		v, done, _ := p.PickKey(fmt.Sprint(k))
		done(lb.Outcome{})
		got[v]++
	}
	near(t, "a share", float64(got["a"])/20000, 0.5, 0.02)
}

func TestLeastRequestAvoidsBusyBackend(t *testing.T) {
	p := newPool(t, backends("a,b,c"), lb.PoolOptions{Policy: lb.LeastRequest(), PanicThreshold: -1})
	p.SetDown("b", true)
	p.SetDown("c", true)
	var held []func(lb.Outcome)
	for range 10 {
		_, done, _ := p.Pick()
		held = append(held, done)
	}
	p.SetDown("b", false)
	p.SetDown("c", false)
	got := count(t, p, 3000)
	if got["a"] != 0 {
		t.Errorf("busy backend got %d picks, want 0 (pairs never both a)", got["a"])
	}
	for _, done := range held {
		done(lb.Outcome{})
	}
}

func TestPeakEWMAShiftsFromSlowBackend(t *testing.T) {
	now := time.Unix(0, 0)
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{
		Policy: lb.PeakEWMA(lb.PeakEWMAOptions{}),
		Now:    func() time.Time { return now },
	})
	got := map[string]int{}
	for range 4000 {
		now = now.Add(time.Millisecond)
		v, done, _ := p.Pick()
		lat := 10 * time.Millisecond
		if v == "d" {
			lat = 100 * time.Millisecond
		}
		done(lb.Outcome{Latency: lat})
		got[v]++
	}
	// d loses every comparison once measured; only the first picks reach it.
	if got["d"] > 10 {
		t.Errorf("slow backend got %d of 4000 picks: %v", got["d"], got)
	}
	for _, e := range p.Endpoints() {
		if e.Name() == "d" && e.Latency() != 100*time.Millisecond {
			t.Errorf("d latency %v, want 100ms", e.Latency())
		}
	}
}

func TestEmptyAndInvalid(t *testing.T) {
	var nilPool *lb.Pool[string]
	if _, _, err := nilPool.Pick(); !errors.Is(err, lb.ErrNoBackend) {
		t.Errorf("nil pool: %v", err)
	}
	p := newPool(t, nil, lb.PoolOptions{})
	if _, _, err := p.Pick(); !errors.Is(err, lb.ErrNoBackend) {
		t.Errorf("empty pool: %v", err)
	}
	bad := []struct {
		name string
		bs   []lb.Backend[string]
		opts lb.PoolOptions
		want string
	}{
		{"negative weight", backends("a,b", 1, -2), lb.PoolOptions{}, "Weight -2"},
		{"duplicate", backends("a,a"), lb.PoolOptions{}, `Name "a"`},
		{"zones", nil, lb.PoolOptions{Zones: []string{"x", "x"}}, "Zones"},
		{"panic", nil, lb.PoolOptions{PanicThreshold: 2}, "PanicThreshold"},
		{"share", nil, lb.PoolOptions{Outlier: lb.OutlierOptions{MaxEjectedShare: 1.5}}, "MaxEjectedShare"},
		{"ejection", nil, lb.PoolOptions{Outlier: lb.OutlierOptions{BaseEjectionTime: -1}}, "BaseEjectionTime"},
		{"slow start", nil, lb.PoolOptions{SlowStart: lb.SlowStartOptions{Aggression: -1}}, "Aggression"},
	}
	for _, tt := range bad {
		_, err := lb.NewPool(tt.bs, tt.opts)
		if !errors.Is(err, lb.ErrInvalidOptions) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err %v, want ErrInvalidOptions naming %s", tt.name, err, tt.want)
		}
	}
	if err := p.Update(backends("a,b", 0, -1)); !errors.Is(err, lb.ErrInvalidOptions) {
		t.Errorf("Update with bad weight: %v", err)
	}
}

func TestDefaultName(t *testing.T) {
	p := newPool(t, []lb.Backend[string]{{Value: "x"}}, lb.PoolOptions{})
	if got := p.Endpoints()[0].Name(); got != "x" {
		t.Errorf("name %q", got)
	}
}

func TestPeakEWMARetriesRecoveredBackend(t *testing.T) {
	now := time.Unix(0, 0)
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{
		Policy: lb.PeakEWMA(lb.PeakEWMAOptions{Decay: time.Second}),
		Now:    func() time.Time { return now },
	})
	run := func(n int, dSlow bool) map[string]int {
		got := map[string]int{}
		for range n {
			now = now.Add(time.Millisecond)
			v, done, _ := p.Pick()
			lat := 10 * time.Millisecond
			if v == "d" && dSlow {
				lat = time.Second
			}
			done(lb.Outcome{Latency: lat})
			got[v]++
		}
		return got
	}
	run(2000, true)
	if got := run(2000, true); got["d"] > 2 {
		t.Fatalf("slow d got %d picks", got["d"])
	}
	// d healed: once its average has aged, serial traffic finds it again.
	run(10000, false)
	if got := run(4000, false); got["d"] < 800 {
		t.Errorf("recovered d got %d of 4000 picks: %v", got["d"], got)
	}
}

type lastPicker struct{ n int }

func (p lastPicker) Pick(uint64, bool) int { return p.n - 1 }

func TestCustomPolicy(t *testing.T) {
	built := 0
	policy := lb.PolicyFunc(func(cfg lb.PickerConfig) lb.Picker {
		built++
		return lastPicker{len(cfg.Endpoints)}
	})
	p := newPool(t, backends("a,b,c"), lb.PoolOptions{Policy: policy, PanicThreshold: -1})
	if got := count(t, p, 10); got["c"] != 10 {
		t.Errorf("custom picker: %v", got)
	}
	p.SetDown("c", true)
	if got := count(t, p, 10); got["b"] != 10 {
		t.Errorf("custom picker after c went down: %v", got)
	}
	if built != 2 {
		t.Errorf("NewPicker called %d times, want once per snapshot (2)", built)
	}
}
