package shard_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// Over 1M keys, every shard of a hash strategy gets within 5% of the mean
// (the bar of BENCH.md). At 128 shards that is 7800 keys each, where
// chance alone gives ±3%, so 128 runs only without the race detector.
func TestBalanceOverOneMillionKeys(t *testing.T) {
	counts := []int{4, 16}
	if !raceOn {
		counts = append(counts, 128)
	}
	k := 1 << 20
	for _, name := range []string{"modulo", "jump", "rendezvous", "maglev"} {
		for _, n := range counts {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				if r := maxOverMean(loads(mustStrategy(t, name, n), k)); r > 1.05 {
					t.Errorf("max/mean = %.4f, want ≤ 1.05", r)
				}
			})
		}
	}
}

// Bounded loads caps a shard at ⌈Load·partitions/shards⌉ partitions; keys
// per partition vary too, so the bound on keys is Load plus that noise.
func TestConsistentBalanceIsBoundedByLoad(t *testing.T) {
	k := keyCount(1 << 20)
	for _, c := range []struct {
		opts  shard.ConsistentOptions
		bound float64
	}{
		{shard.ConsistentOptions{}, 1.25 + 0.05},
		{shard.ConsistentOptions{PartitionCount: 7919, Load: 1.05}, 1.05 + 0.05},
	} {
		for _, n := range []int{4, 16} {
			s, err := shard.NewConsistent(dbNames(n), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r := maxOverMean(loads(s, k)); r > c.bound {
				t.Errorf("%+v over %d shards: max/mean = %.4f, want ≤ %.2f", c.opts, n, r, c.bound)
			}
		}
	}
}

// Weighted shards receive keys in proportion to their weights.
func TestWeightsShareKeysInProportion(t *testing.T) {
	w := []float64{1, 2, 3, 4}
	r, err := shard.NewRendezvous(dbNames(4), shard.RendezvousOptions{Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	g, err := shard.NewMaglev(dbNames(4), shard.MaglevOptions{Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	k := keyCount(1 << 20)
	for name, s := range map[string]shard.Strategy{"rendezvous": r, "maglev": g} {
		c := loads(s, k)
		for i, x := range c {
			want := float64(k) * w[i] / 10
			if d := float64(x)/want - 1; d > 0.03 || d < -0.03 {
				t.Errorf("%s: shard %d (weight %v) got %d keys, want %.0f ± 3%%", name, i, w[i], x, want)
			}
		}
	}
}

// Equal weights take the unweighted path and place keys exactly as no
// weights do.
func TestEqualWeightsMatchUnweighted(t *testing.T) {
	a, _ := shard.NewRendezvous(dbNames(5), shard.RendezvousOptions{})
	b, _ := shard.NewRendezvous(dbNames(5), shard.RendezvousOptions{Weights: []float64{3, 3, 3, 3, 3}})
	c, _ := shard.NewMaglev(dbNames(5), shard.MaglevOptions{})
	d, _ := shard.NewMaglev(dbNames(5), shard.MaglevOptions{Weights: []float64{2, 2, 2, 2, 2}})
	for i := range 10000 {
		h := shard.KeyUint64(uint64(i))
		if a.Shard(h) != b.Shard(h) || c.Shard(h) != d.Shard(h) {
			t.Fatalf("key %d: equal weights place differently", i)
		}
	}
}
