package lb_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
)

// hashKeys is how many keys the consistency tests route.
const hashKeys = 2000

// owners routes hashKeys keys through p and returns each key's backend.
func owners(t *testing.T, p *lb.Pool[string]) []string {
	t.Helper()
	out := make([]string, hashKeys)
	for k := range out {
		v, done, err := p.PickKey(fmt.Sprintf("key-%d", k))
		if err != nil {
			t.Fatal(err)
		}
		done(lb.Outcome{})
		out[k] = v
	}
	return out
}

func named(n int, weight func(i int) int) []lb.Backend[string] {
	bs := make([]lb.Backend[string], n)
	for i := range bs {
		name := fmt.Sprintf("b%d", i)
		bs[i] = lb.Backend[string]{Name: name, Value: name, Weight: weight(i)}
	}
	return bs
}

func one(int) int { return 1 }

// TestHashConsistency changes a Hash pool step by step (adds, removals,
// weight changes, slow start ramps, growth past 32 members) and checks after
// each step that a key moved only if its backend left, or to a backend that
// arrived or gained weight, or away from one that lost weight: a key whose
// owner is still there and unchanged never moves, and a weight change moves
// exactly the keys it must.
func TestHashConsistency(t *testing.T) {
	now := time.Unix(1e9, 0)
	p := newPool(t, named(3, one), lb.PoolOptions{
		PanicThreshold: -1,
		Policy:         lb.Hash(lb.HashOptions{}),
		// Slow start on: every step below that admits a backend ramps it, and
		// the window is long enough that its timer never fires during the test.
		SlowStart: lb.SlowStartOptions{Window: time.Hour},
		Now:       func() time.Time { return now },
	})
	type step struct {
		name    string
		bs      []lb.Backend[string]
		advance time.Duration
		down    string // a backend marked down after the update
	}
	weighted := func(n int) []lb.Backend[string] { return named(n, func(i int) int { return i%4 + 1 }) }
	steps := []step{
		{name: "add a fourth (slow start)", bs: named(4, one)},
		{name: "fourth ramps up", bs: named(4, one), advance: 20 * time.Minute},
		{name: "fourth ramps further", bs: named(4, one), advance: 20 * time.Minute},
		{name: "fourth ramped", bs: named(4, one), advance: 30 * time.Minute},
		{name: "remove b1", bs: slices.Delete(named(4, one), 1, 2)},
		{name: "b2 weight 1→3", bs: []lb.Backend[string]{{Name: "b0", Value: "b0"}, {Name: "b2", Value: "b2", Weight: 3}, {Name: "b3", Value: "b3"}}},
		{name: "b2 ramped", bs: []lb.Backend[string]{{Name: "b0", Value: "b0"}, {Name: "b2", Value: "b2", Weight: 3}, {Name: "b3", Value: "b3"}}, advance: time.Hour},
		{name: "b2 weight 3→1", bs: []lb.Backend[string]{{Name: "b0", Value: "b0"}, {Name: "b2", Value: "b2"}, {Name: "b3", Value: "b3"}}},
		{name: "grow to 32", bs: named(32, one)},
		{name: "32 ramped", bs: named(32, one), advance: time.Hour},
		{name: "grow to 33", bs: named(33, one)},
		{name: "33 ramped", bs: named(33, one), advance: time.Hour},
		{name: "weights 1..4 on 33", bs: weighted(33)},
		{name: "weighted 33 ramped", bs: weighted(33), advance: time.Hour},
		{name: "shrink to 31", bs: weighted(31)},
		{name: "weights back to 1 on 31", bs: named(31, one)},
		{name: "grow to 100", bs: named(100, one)},
		{name: "one down", bs: named(100, one), down: "b7"},
		{name: "one up again (slow start)", bs: named(100, one)},
	}
	before := owners(t, p)
	weight := map[string]int{"b0": 1, "b1": 1, "b2": 1}
	for _, s := range steps {
		now = now.Add(s.advance)
		if err := p.Update(s.bs); err != nil {
			t.Fatal(err)
		}
		p.SetDown("b7", s.down != "")
		// gains may take keys (arrived or heavier), loses may give them
		// away (lighter or down); every other backend keeps its keys.
		var gains, loses []string
		next := map[string]int{}
		for _, b := range s.bs {
			w := max(b.Weight, 1)
			next[b.Name] = w
			if old, ok := weight[b.Name]; !ok || w > old {
				gains = append(gains, b.Name)
			} else if w < old {
				loses = append(loses, b.Name)
			}
		}
		if s.down != "" {
			loses = append(loses, s.down)
			delete(next, s.down)
		}
		after := owners(t, p)
		moved := 0
		for k := range after {
			from, to := before[k], after[k]
			if from == to {
				continue
			}
			moved++
			if _, stays := next[from]; stays && !slices.Contains(gains, to) && !slices.Contains(loses, from) {
				t.Errorf("%s: key-%d moved %s → %s, though %s is still there unchanged", s.name, k, from, to, from)
			}
		}
		// Owners depend on the members only, not on the history that led
		// there (each picker inherits what its predecessor computed).
		fresh := newPool(t, s.bs, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{}), PanicThreshold: -1})
		fresh.SetDown("b7", s.down != "")
		if want := owners(t, fresh); !slices.Equal(after, want) {
			t.Errorf("%s: owners differ from a new pool's with the same members", s.name)
		}
		t.Logf("%s: %d of %d keys moved", s.name, moved, len(after))
		before, weight = after, next
	}
}

// TestHashShares checks that weighted hashing gives each backend its share
// of keys, both with equal and with unequal weights, small and large pools.
func TestHashShares(t *testing.T) {
	for _, n := range []int{3, 40} {
		for _, w := range []func(int) int{one, func(i int) int { return i%3 + 1 }} {
			bs := named(n, w)
			p := newPool(t, bs, lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{})})
			const keys = 50000
			got := map[string]int{}
			for k := range keys {
				v, done, _ := p.PickKey(fmt.Sprint("k", k))
				done(lb.Outcome{})
				got[v]++
			}
			total := 0
			for _, b := range bs {
				total += max(b.Weight, 1)
			}
			for _, b := range bs {
				want := float64(max(b.Weight, 1)) / float64(total)
				near(t, fmt.Sprintf("n=%d %s share", n, b.Name), float64(got[b.Name])/keys, want, 0.25*want)
			}
		}
	}
}

// TestHashPickAllocatesNothing: neither a pick whose slot is known nor one
// computing its slot's owner allocates.
func TestHashPickAllocatesNothing(t *testing.T) {
	p := newPool(t, named(50, one), lb.PoolOptions{Policy: lb.Hash(lb.HashOptions{})})
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = fmt.Sprint("user-", i)
	}
	i := 0
	if a := testing.AllocsPerRun(len(keys)-1, func() { // first runs: new slots
		_, done, _ := p.PickKey(keys[i%len(keys)])
		done(lb.Outcome{})
		i++
	}); a != 0 {
		t.Errorf("%v allocations per pick", a)
	}
}
