package shard_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// Whatever a user types, ParseRanges either fails with ErrInvalidOptions or
// returns ranges that cover the space exactly, and every hash routes to a
// range containing it.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"-", "-80,80-", "-40,40-80,80-c0,c0-", "-80,40-", "-4000,4000-8000,8000-", "", ",", "-8,8-", "--", "-ff,ff-", "-0123456789abcdef,0123456789abcdef-"} {
		f.Add(s, uint64(0x7f00000000000000))
	}
	f.Fuzz(func(t *testing.T, spec string, h uint64) {
		r, err := shard.ParseRanges(spec)
		if err != nil {
			if !errors.Is(err, shard.ErrInvalidOptions) {
				t.Fatalf("ParseRanges(%q): %v is not ErrInvalidOptions", spec, err)
			}
			return
		}
		rs := r.Ranges()
		if rs[0].Start != 0 || rs[len(rs)-1].End != 0 {
			t.Fatalf("ParseRanges(%q) = %v: does not cover the ends", spec, rs)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].Start != rs[i-1].End {
				t.Fatalf("ParseRanges(%q) = %v: gap or overlap at %d", spec, rs, i)
			}
		}
		if i := r.Shard(h); i < 0 || i >= len(rs) || !rs[i].Contains(h) {
			t.Fatalf("ParseRanges(%q).Shard(%#x) = %d: not the containing range", spec, h, i)
		}
		if _, err := shard.NewMap(1, r.Names(), r); err != nil {
			t.Fatalf("NewMap over ParseRanges(%q): %v", spec, err)
		}
	})
}

// Any key bytes hash without panicking, to the same value as a string.
func FuzzKeyBytes(f *testing.F) {
	for _, s := range []string{"", "a", "abcd", "abcdefgh", "0123456789abcdef0123456789abcdef!"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if shard.KeyBytes(b) != shard.KeyString(string(b)) {
			t.Fatalf("KeyBytes(%q) != KeyString", b)
		}
	})
}

// Any configuration either fails with ErrInvalidOptions or builds a
// strategy that places every hash on one of its shards; none panics.
func FuzzStrategyOptions(f *testing.F) {
	f.Add(uint8(4), []byte{1, 2, 3, 4}, 0, 0, 0, 0.0, uint64(42), false)
	f.Add(uint8(2), []byte{0, 1}, 101, 1, 1, 1.0, uint64(7), true)
	f.Add(uint8(0), []byte{}, -1, -1, -1, -1.0, uint64(0), false)
	f.Add(uint8(9), []byte{5, 5, 5, 5, 5, 5, 5, 5, 5}, 1009, 7, 2, 1.01, uint64(1<<63), true)
	f.Fuzz(func(t *testing.T, n uint8, weights []byte, table, parts, rf int, load float64, h uint64, dup bool) {
		ns := dbNames(int(n % 40))
		if dup && len(ns) > 1 {
			ns[len(ns)-1] = ns[0]
		}
		var w []float64
		if len(weights) > 0 {
			w = make([]float64, len(weights))
			for i, b := range weights {
				w[i] = float64(b) - 1 // 0 gives -1, 1 gives 0: both invalid
			}
		}
		table %= 1 << 20 // bound memory; larger sizes are checked the same way
		builds := map[string]func() (shard.Strategy, error){
			"modulo":     func() (shard.Strategy, error) { return shard.NewModulo(len(ns)) },
			"jump":       func() (shard.Strategy, error) { return shard.NewJump(len(ns)) },
			"rendezvous": func() (shard.Strategy, error) { return shard.NewRendezvous(ns, shard.RendezvousOptions{Weights: w}) },
			"maglev": func() (shard.Strategy, error) {
				return shard.NewMaglev(ns, shard.MaglevOptions{TableSize: table, Weights: w})
			},
			"consistent": func() (shard.Strategy, error) {
				return shard.NewConsistent(ns, shard.ConsistentOptions{PartitionCount: parts % 20000, ReplicationFactor: rf % 100, Load: load})
			},
		}
		for name, build := range builds {
			s, err := build()
			if err != nil {
				if !errors.Is(err, shard.ErrInvalidOptions) {
					t.Fatalf("%s: %v is not ErrInvalidOptions", name, err)
				}
				continue
			}
			if i := s.Shard(h); i < 0 || i >= s.Len() || s.Len() != len(ns) {
				t.Fatalf("%s over %d shards: Shard(%#x) = %d, Len %d", name, len(ns), h, i, s.Len())
			}
			// Modulo and jump take a count, not names: only the map sees a
			// duplicate name.
			if _, err := shard.NewMap(1, ns, s); err != nil && !(dup && errors.Is(err, shard.ErrInvalidOptions)) {
				t.Fatalf("%s: NewMap: %v", name, err)
			}
		}
	})
}
