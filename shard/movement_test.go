package shard_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// Adding shard n+1 must move 1/(n+1) of the keys, all to the new shard.
// Jump and rendezvous do exactly that; Maglev moves a few keys between
// surviving shards too (within 10% of ideal at its default table up to 16
// shards); bounded-load consistent hashing reshuffles partitions to keep
// loads bounded (within 1.5× of ideal here); modulo moves almost all.
func TestAddingAShardMovesTheIdealShare(t *testing.T) {
	k := keyCount(400_000)
	for _, c := range []struct {
		name     string
		maxRatio float64 // moved / ideal
		minToNew float64 // share of moved keys that go to the new shard
	}{
		{"jump", 1.05, 1},
		{"rendezvous", 1.05, 1},
		{"maglev", 1.1, 0.9},
		{"consistent", 1.5, 0.5},
		{"consistent-7919-1.05", 1.8, 0.5},
	} {
		for _, n := range []int{4, 16} {
			t.Run(fmt.Sprintf("%s/%d→%d", c.name, n, n+1), func(t *testing.T) {
				moved, toNew := movement(mustStrategy(t, c.name, n), mustStrategy(t, c.name, n+1), k)
				ideal := 1 / float64(n+1)
				if moved > c.maxRatio*ideal || moved < 0.9*ideal {
					t.Errorf("moved %.4f, ideal %.4f: ratio %.3f, want in [0.9, %.2f]", moved, ideal, moved/ideal, c.maxRatio)
				}
				if toNew < c.minToNew*moved {
					t.Errorf("only %.4f of %.4f moved to the new shard, want ≥ %.0f%%", toNew, moved, 100*c.minToNew)
				}
			})
		}
	}
}

// The naive baseline: modulo moves n/(n+1) of the keys from n to n+1.
func TestModuloMovesAlmostEveryKey(t *testing.T) {
	moved, _ := movement(mustStrategy(t, "modulo", 4), mustStrategy(t, "modulo", 5), keyCount(100_000))
	if moved < 0.75 {
		t.Errorf("modulo 4→5 moved %.3f, want ≈ 0.8", moved)
	}
}

// Removing a shard in the middle: with rendezvous only its keys move; with
// Maglev almost only; the other keys stay where they were.
func TestRemovingANamedShardMovesOnlyItsKeys(t *testing.T) {
	all := dbNames(8)
	rest := append(append([]string{}, all[:3]...), all[4:]...) // without db3
	k := keyCount(200_000)
	for _, c := range []struct {
		name  string
		build func([]string) (shard.Strategy, error)
		slack float64
	}{
		{"rendezvous", func(s []string) (shard.Strategy, error) { return shard.NewRendezvous(s, shard.RendezvousOptions{}) }, 0},
		{"maglev", func(s []string) (shard.Strategy, error) { return shard.NewMaglev(s, shard.MaglevOptions{}) }, 0.01},
	} {
		a, err := c.build(all)
		if err != nil {
			t.Fatal(err)
		}
		b, err := c.build(rest)
		if err != nil {
			t.Fatal(err)
		}
		strays := 0
		for i := range k {
			h := shard.KeyUint64(uint64(i))
			was, now := all[a.Shard(h)], rest[b.Shard(h)]
			if was != "db3" && was != now {
				strays++
			}
		}
		if f := float64(strays) / float64(k); f > c.slack {
			t.Errorf("%s: %.4f of keys not on the removed shard moved, want ≤ %v", c.name, f, c.slack)
		}
	}
}

// Jump removes the last shard by moving only that shard's keys.
func TestJumpRemovingTheLastShardMovesOnlyItsKeys(t *testing.T) {
	a, b := mustStrategy(t, "jump", 9), mustStrategy(t, "jump", 8)
	for i := range keyCount(100_000) {
		h := shard.KeyUint64(uint64(i))
		if x, y := a.Shard(h), b.Shard(h); x != y && x != 8 {
			t.Fatalf("key %d moved from %d to %d", i, x, y)
		}
	}
}

// A strategy is a pure function of the hash and the shard names: the same
// names in a new process (a new value) give the same placement.
func TestPlacementIsDeterministic(t *testing.T) {
	for _, b := range builders {
		x, err := b.new(7)
		if err != nil {
			t.Fatal(err)
		}
		y, _ := b.new(7)
		for i := range 5000 {
			h := shard.KeyUint64(uint64(i))
			if x.Shard(h) != y.Shard(h) {
				t.Fatalf("%s: key %d placed on %d then %d", b.name, i, x.Shard(h), y.Shard(h))
			}
		}
	}
}
