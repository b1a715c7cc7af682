package shard_test

import (
	"math"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// Weights are relative: multiplying them all by a power of two (exact in
// floating point) must not move a key. Near the top of the float64 range
// (weights of 1e308) the score w / -ln(u) of Rendezvous and the credit
// Maglev accumulates overflowed to +Inf, ties went to the first shard and
// the shares stopped following the weights.
func TestWeightsAreScaleFree(t *testing.T) {
	names := []string{"a", "b", "c"}
	base := []float64{1.5, 1.25, 1}
	for _, exp := range []int{1023, 1000, -1000, -1070} {
		scaled := make([]float64, len(base))
		for i, w := range base {
			scaled[i] = math.Ldexp(w, exp)
		}
		build := map[string]func([]float64) (shard.Strategy, error){
			"rendezvous": func(w []float64) (shard.Strategy, error) {
				return shard.NewRendezvous(names, shard.RendezvousOptions{Weights: w})
			},
			"maglev": func(w []float64) (shard.Strategy, error) {
				return shard.NewMaglev(names, shard.MaglevOptions{Weights: w})
			},
		}
		for name, b := range build {
			want, err := b(base)
			if err != nil {
				t.Fatal(err)
			}
			got, err := b(scaled)
			if err != nil {
				t.Fatalf("%s weights %v: %v", name, scaled, err)
			}
			moved := 0
			for k := range uint64(20000) {
				if h := shard.KeyUint64(k); got.Shard(h) != want.Shard(h) {
					moved++
				}
			}
			if moved > 0 {
				t.Errorf("%s: weights %v place %d of 20000 keys elsewhere than %v", name, scaled, moved, base)
			}
		}
	}
}
