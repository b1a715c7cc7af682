package shard_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// names returns "db0" … "db<n-1>".
func dbNames(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("db%d", i)
	}
	return s
}

// builders build each strategy over n shards named by dbNames(n).
var builders = []struct {
	name string
	new  func(n int) (shard.Strategy, error)
}{
	{"modulo", func(n int) (shard.Strategy, error) { return shard.NewModulo(n) }},
	{"jump", func(n int) (shard.Strategy, error) { return shard.NewJump(n) }},
	{"rendezvous", func(n int) (shard.Strategy, error) {
		return shard.NewRendezvous(dbNames(n), shard.RendezvousOptions{})
	}},
	{"maglev", func(n int) (shard.Strategy, error) { return shard.NewMaglev(dbNames(n), shard.MaglevOptions{}) }},
	{"consistent", func(n int) (shard.Strategy, error) {
		return shard.NewConsistent(dbNames(n), shard.ConsistentOptions{})
	}},
	{"consistent-7919-1.05", func(n int) (shard.Strategy, error) {
		return shard.NewConsistent(dbNames(n), shard.ConsistentOptions{PartitionCount: 7919, Load: 1.05})
	}},
}

func mustStrategy(t testing.TB, name string, n int) shard.Strategy {
	t.Helper()
	for _, b := range builders {
		if b.name == name {
			s, err := b.new(n)
			if err != nil {
				t.Fatalf("%s over %d shards: %v", name, n, err)
			}
			return s
		}
	}
	t.Fatalf("no strategy %q", name)
	return nil
}

// keyCount is the number of keys the property tests route.
func keyCount(full int) int {
	if raceOn {
		return full / 10
	}
	return full
}

// loads routes keys 0..k-1 (as KeyUint64) and returns the count per shard.
func loads(s shard.Strategy, k int) []int {
	c := make([]int, s.Len())
	for i := range k {
		c[s.Shard(shard.KeyUint64(uint64(i)))]++
	}
	return c
}

// maxOverMean is the busiest shard's load over the mean load.
func maxOverMean(c []int) float64 {
	sum, mx := 0, 0
	for _, x := range c {
		sum += x
		mx = max(mx, x)
	}
	return float64(mx) / (float64(sum) / float64(len(c)))
}

// movement routes keys 0..k-1 under a and b and returns the fraction that
// changes shard and the fraction that lands on a shard number ≥ a.Len()
// (the shards b added at the end).
func movement(a, b shard.Strategy, k int) (moved, toNew float64) {
	m, nw := 0, 0
	for i := range k {
		h := shard.KeyUint64(uint64(i))
		x, y := a.Shard(h), b.Shard(h)
		if x != y {
			m++
			if y >= a.Len() {
				nw++
			}
		}
	}
	return float64(m) / float64(k), float64(nw) / float64(k)
}

// fold folds the shards of keys 0..999 into one number, so one golden value
// pins a thousand placements.
func fold(s shard.Strategy) uint64 {
	var f uint64
	for i := range 1000 {
		f = f*31 + uint64(s.Shard(shard.KeyUint64(uint64(i))))
	}
	return f
}
