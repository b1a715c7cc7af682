package shard_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

func rangeMap(t testing.TB, version uint64, spec string) *shard.Map {
	t.Helper()
	r, err := shard.ParseRanges(spec)
	if err != nil {
		t.Fatal(err)
	}
	m, err := shard.NewMap(version, r.Names(), r)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Splitting Vitess shard "80-" into "80-c0" and "c0-": exactly the upper
// half moves, in two ranges, to the two new shards.
func TestPlanRangeSplitIsExact(t *testing.T) {
	old := rangeMap(t, 1, "-80,80-")
	next := rangeMap(t, 2, "-80,80-c0,c0-")
	p, err := shard.Plan(old, next, shard.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Basis != shard.BasisRanges || p.Moved != 0.5 || p.From != 1 || p.To != 2 {
		t.Errorf("plan = %+v, want ranges basis, 0.5 moved, v1→v2", p)
	}
	want := []shard.RangeMove{
		{Start: 0x80 << 56, End: 0xc0 << 56, From: "80-", To: "80-c0"},
		{Start: 0xc0 << 56, End: 0, From: "80-", To: "c0-"},
	}
	if !slices.Equal(p.Ranges, want) {
		t.Errorf("Ranges = %+v, want %+v", p.Ranges, want)
	}
	wantFlows := []shard.Flow{{From: "80-", To: "80-c0", Fraction: 0.25}, {From: "80-", To: "c0-", Fraction: 0.25}}
	if !slices.Equal(p.Flows, wantFlows) {
		t.Errorf("Flows = %+v, want %+v", p.Flows, wantFlows)
	}
}

// Merging shards and moving a boundary: adjacent moving slices with the
// same source and target are reported as one range.
func TestPlanRangeMergeAndBoundaryMove(t *testing.T) {
	p, err := shard.Plan(rangeMap(t, 1, "-40,40-80,80-"), rangeMap(t, 2, "-60,60-"), shard.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []shard.RangeMove{
		{Start: 0, End: 0x40 << 56, From: "-40", To: "-60"},
		{Start: 0x40 << 56, End: 0x60 << 56, From: "40-80", To: "-60"},
		{Start: 0x60 << 56, End: 0x80 << 56, From: "40-80", To: "60-"},
		{Start: 0x80 << 56, End: 0, From: "80-", To: "60-"},
	}
	if !slices.Equal(p.Ranges, want) || p.Moved != 1 {
		t.Errorf("Ranges = %+v (moved %v), want %+v (all moves: every shard is renamed)", p.Ranges, p.Moved, want)
	}
	// Keeping a shard's name keeps its keys: only the boundary slice moves.
	named := func(v uint64, cut uint64) *shard.Map {
		r, err := shard.NewRanges([]shard.Range{{Name: "a", End: cut}, {Name: "b", Start: cut}})
		if err != nil {
			t.Fatal(err)
		}
		m, err := shard.NewMap(v, []string{"a", "b"}, r)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	p, err = shard.Plan(named(1, 0x40<<56), named(2, 0x60<<56), shard.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Moved != 0.125 || len(p.Ranges) != 1 || p.Ranges[0] != (shard.RangeMove{Start: 0x40 << 56, End: 0x60 << 56, From: "b", To: "a"}) {
		t.Errorf("boundary move: %+v", p)
	}
}

// A reshard to the same topology is a no-op, for every basis.
func TestPlanSameTopologyMovesNothing(t *testing.T) {
	for name, pair := range map[string][2]*shard.Map{
		"ranges": {rangeMap(t, 1, "-80,80-"), rangeMap(t, 2, "-80,80-")},
		"jump":   {jumpMap(t, 1, 4), jumpMap(t, 2, 4)},
	} {
		p, err := shard.Plan(pair[0], pair[1], shard.PlanOptions{Samples: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if p.Moved != 0 || p.MovedKeys != 0 || len(p.Flows) != 0 || len(p.Ranges) != 0 {
			t.Errorf("%s: same topology plan = %+v, want nothing moved", name, p)
		}
	}
}

// For hash strategies the sample estimates the moved share: jump 4→5 moves
// 1/5, all to db4, a quarter of it from each old shard.
func TestPlanJumpAddSampled(t *testing.T) {
	p, err := shard.Plan(jumpMap(t, 1, 4), jumpMap(t, 2, 5), shard.PlanOptions{Samples: keyCount(1 << 20)})
	if err != nil {
		t.Fatal(err)
	}
	if p.Basis != shard.BasisSample || math.Abs(p.Moved-0.2) > 0.005 {
		t.Errorf("moved %v (basis %v), want ≈ 0.2 by sample", p.Moved, p.Basis)
	}
	if len(p.Flows) != 4 {
		t.Fatalf("flows = %+v, want 4 (db0..db3 → db4)", p.Flows)
	}
	sum := 0
	for i, f := range p.Flows {
		if f.From != dbNames(4)[i] || f.To != "db4" || math.Abs(f.Fraction-0.05) > 0.003 {
			t.Errorf("flow %+v, want db%d → db4 ≈ 0.05", f, i)
		}
		sum += f.Keys
	}
	if sum != p.MovedKeys {
		t.Errorf("flows sum to %d keys, MovedKeys %d", sum, p.MovedKeys)
	}
}

// Over the user's own keys the plan is exact: it agrees key by key with
// the two maps.
func TestPlanOverKeysIsExact(t *testing.T) {
	old, next := jumpMap(t, 1, 4), rangeMap(t, 2, "-80,80-")
	keys := func(yield func(uint64) bool) {
		for i := range 5000 {
			if !yield(shard.KeyUint64(uint64(i))) {
				return
			}
		}
	}
	p, err := shard.Plan(old, next, shard.PlanOptions{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	moved := 0
	for h := range keys {
		if old.Name(h) != next.Name(h) {
			moved++
		}
	}
	if p.Basis != shard.BasisKeys || p.Keys != 5000 || p.MovedKeys != moved || moved != 5000 {
		t.Errorf("plan = %+v, want exactly %d of 5000 moved (no name is shared)", p, moved)
	}
}

// Directory overrides count in a sampled plan even though a sample would
// never hit the one key they place.
func TestPlanSeesDirectoryOverrides(t *testing.T) {
	m1 := jumpMap(t, 1, 4)
	hot := shard.KeyString("tenant:acme")
	to := dbNames(4)[(m1.Shard(hot)+1)%4]
	m2, err := m1.WithOverride(2, hot, to)
	if err != nil {
		t.Fatal(err)
	}
	p, err := shard.Plan(m1, m2, shard.PlanOptions{Samples: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if p.MovedKeys != 1 || len(p.Flows) != 1 || p.Flows[0].To != to {
		t.Errorf("plan = %+v, want the one overridden key moving to %s", p, to)
	}
}

func TestPlanRejectsBadInput(t *testing.T) {
	m := jumpMap(t, 1, 2)
	for _, err := range []error{
		func() error { _, err := shard.Plan(m, nil, shard.PlanOptions{}); return err }(),
		func() error { _, err := shard.Plan(m, m, shard.PlanOptions{Samples: -1}); return err }(),
	} {
		if !errors.Is(err, shard.ErrInvalidOptions) {
			t.Errorf("err = %v, want ErrInvalidOptions", err)
		}
	}
}

// The sample estimates every strategy's true movement (measured over real
// keys): modulo's 4/5, Maglev's and consistent's extra, ranges behind a
// directory (which leaves the exact range diff).
func TestPlanSampleMatchesMeasuredMovement(t *testing.T) {
	k := keyCount(200_000)
	for _, name := range []string{"modulo", "maglev", "consistent"} {
		a, b := mustStrategy(t, name, 4), mustStrategy(t, name, 5)
		ma, err := shard.NewMap(1, dbNames(4), a)
		if err != nil {
			t.Fatal(err)
		}
		mb, err := shard.NewMap(2, dbNames(5), b)
		if err != nil {
			t.Fatal(err)
		}
		p, err := shard.Plan(ma, mb, shard.PlanOptions{Samples: k})
		if err != nil {
			t.Fatal(err)
		}
		moved, _ := movement(a, b, k)
		if math.Abs(p.Moved-moved) > 0.01 {
			t.Errorf("%s 4→5: plan says %.4f moves, keys show %.4f", name, p.Moved, moved)
		}
	}
	r1 := rangeMap(t, 1, "-80,80-")
	d, err := r1.WithOverride(2, shard.KeyString("x"), "80-")
	if err != nil {
		t.Fatal(err)
	}
	p, err := shard.Plan(d, rangeMap(t, 3, "-40,40-"), shard.PlanOptions{Samples: k})
	if err != nil {
		t.Fatal(err)
	}
	if p.Basis != shard.BasisSample || math.Abs(p.Moved-1) > 0.01 {
		t.Errorf("directory over ranges: basis %v moved %.4f, want a sample with every key moving (all renamed)", p.Basis, p.Moved)
	}
}
