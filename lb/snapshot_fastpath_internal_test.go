package lb

import (
	"log/slog"
	"slices"
	"testing"
	"time"
)

// onlyWanted is when a snapshot may call its one picker directly: one tier
// whose positions are exactly 0…n-1 (a picker's index is then the position)
// and no MaxInFlight spill to consider.
func onlyWanted[T any](s *snapshot[T]) bool {
	if len(s.tiers) != 1 || s.maxInFlight != 0 || len(s.tiers[0].pos) != len(s.all) {
		return false
	}
	for k, i := range s.tiers[0].pos {
		if k != i {
			return false
		}
	}
	return true
}

// checkOnly fails unless the snapshot's fast path is set exactly when it is
// right, and picks (plain, keyed and for retries) land only where the tiers allow.
func checkOnly(t *testing.T, p *Pool[string], wantOnly bool) {
	t.Helper()
	s := p.snap.Load()
	if got := s.only != nil; got != onlyWanted(s) || got != wantOnly {
		t.Fatalf("only set = %v, want %v (tiers %d, maxInFlight %d)", got, wantOnly, len(s.tiers), s.maxInFlight)
	}
	if s.only != nil && s.only != s.tiers[0].picker {
		t.Fatal("only is not the tier's picker")
	}
	allowed := map[int]bool{}
	for _, tr := range s.tiers {
		for _, i := range tr.pos {
			allowed[i] = true
		}
	}
	for k := range 200 {
		key := fnv64(string(rune('a' + k%26)))
		for _, keyed := range []bool{false, true} {
			i := s.choose(key, keyed)
			if len(s.tiers) == 0 {
				if i != -1 {
					t.Fatalf("empty snapshot chose %d", i)
				}
				continue
			}
			if !allowed[i] {
				t.Fatalf("chose position %d (%s), not in any tier", i, s.all[i].name)
			}
			if j, _ := s.chooseExcept(key, keyed, []int{i}); len(allowed) > 1 && (j == i || !allowed[j]) {
				t.Fatalf("retry after %d chose %d", i, j)
			}
		}
	}
}

func onlyPool(t *testing.T, bs []Backend[string], opts PoolOptions) *Pool[string] {
	t.Helper()
	opts.Logger = slog.New(slog.DiscardHandler)
	p, err := NewPool(bs, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func names(ns ...string) []Backend[string] {
	bs := make([]Backend[string], len(ns))
	for i, n := range ns {
		bs[i] = Backend[string]{Name: n, Value: n}
	}
	return bs
}

// badPolicy's pickers return indices out of range, so the guard falls back
// to its round robin over the tier's endpoints.
type badPolicy struct{}

type badPicker struct{ n int }

func (badPolicy) NewPicker(cfg PickerConfig) Picker { return badPicker{len(cfg.Endpoints)} }
func (b badPicker) Pick(uint64, bool) int           { return b.n + 3 }

func TestSnapshotOnlyExactlyWhenPositionsAreAll(t *testing.T) {
	policies := map[string]Policy{
		"rr": RoundRobin(), "wrr": WeightedRoundRobin(), "random": Random(), "least": LeastRequest(),
		"ewma": PeakEWMA(PeakEWMAOptions{}), "hash": Hash(HashOptions{}), "first": FirstAvailable(),
		"custom": badPolicy{},
	}
	for name, pol := range policies {
		t.Run(name, func(t *testing.T) {
			// Empty pool: no tier, nothing to pick.
			checkOnly(t, onlyPool(t, nil, PoolOptions{Policy: pol}), false)

			// Every member eligible, in one (or no) zone.
			p := onlyPool(t, names("a", "b", "c", "d"), PoolOptions{Policy: pol, PanicThreshold: -1})
			checkOnly(t, p, true)

			// A member down or ejected: positions skip it.
			for _, down := range []string{"a", "c", "d"} {
				p.SetDown(down, true)
				checkOnly(t, p, false)
				p.SetDown(down, false)
				checkOnly(t, p, true)
			}
			p.eject(p.members[1])
			if !p.members[1].ejected {
				t.Fatal("not ejected")
			}
			checkOnly(t, p, false)

			// Reordered members keep the ejected one out wherever it lands.
			if err := p.Update(names("d", "b", "c", "a")); err != nil {
				t.Fatal(err)
			}
			checkOnly(t, p, false)
			if err := p.Update(names("d", "c", "a")); err != nil {
				t.Fatal(err)
			}
			checkOnly(t, p, true)
			if err := p.Update(nil); err != nil {
				t.Fatal(err)
			}
			checkOnly(t, p, false)

			// MaxInFlight: choose must see in-flight counts.
			checkOnly(t, onlyPool(t, names("a", "b"), PoolOptions{Policy: pol, MaxInFlight: 1}), false)

			// Zones: one zone is one tier; two are two.
			one := []Backend[string]{{Name: "a", Value: "a", Zone: "x"}, {Name: "b", Value: "b", Zone: "x"}}
			checkOnly(t, onlyPool(t, one, PoolOptions{Policy: pol, Zones: []string{"y", "x"}}), true)
			two := []Backend[string]{{Name: "a", Value: "a", Zone: "y"}, {Name: "b", Value: "b", Zone: "x"},
				{Name: "c", Value: "c", Zone: "y"}}
			z := onlyPool(t, two, PoolOptions{Policy: pol, Zones: []string{"x", "y"}, PanicThreshold: -1})
			checkOnly(t, z, false)
			z.SetDown("b", true) // zone x empty: zone y alone is one tier, but not every member
			checkOnly(t, z, false)

			// Panic: one tier of every member, down ones included, zones ignored.
			z.SetDown("b", false)
			z.opts.PanicThreshold = 0.9
			z.SetDown("a", true)
			checkOnly(t, z, true)

			// Slow start: ramping weights, same positions.
			ss := onlyPool(t, names("a", "b", "c"), PoolOptions{Policy: pol,
				SlowStart: SlowStartOptions{Window: time.Hour}})
			if err := ss.Update(names("a", "b", "c", "e")); err != nil {
				t.Fatal(err)
			}
			checkOnly(t, ss, true)
		})
	}
}

// What the fast path must never skip, seen through Pick: a down member, a
// preferred zone, a saturated backend's spill.
func TestSnapshotOnlyKeepsPoolRules(t *testing.T) {
	p := onlyPool(t, names("a", "b", "c"), PoolOptions{PanicThreshold: -1})
	p.SetDown("a", true)
	for range 30 {
		v, done, err := p.Pick()
		if err != nil || v == "a" {
			t.Fatalf("picked %q, %v with a down", v, err)
		}
		done(Outcome{})
	}

	zoned := []Backend[string]{{Name: "far", Value: "far", Zone: "far"}, {Name: "near", Value: "near", Zone: "near"}}
	z := onlyPool(t, zoned, PoolOptions{Zones: []string{"near", "far"}, MaxInFlight: 1})
	v1, done1, _ := z.Pick()
	v2, done2, _ := z.Pick() // near is full: spill
	if got := []string{v1, v2}; !slices.Equal(got, []string{"near", "far"}) {
		t.Errorf("picks %v, want near then far", got)
	}
	done1(Outcome{})
	done2(Outcome{})
}
