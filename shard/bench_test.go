package shard_test

import (
	"fmt"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

func BenchmarkKey(b *testing.B) {
	s := "tenant:acme-corporation:user:1234567"
	buf := []byte(s)
	b.Run("string-36B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			shard.KeyString(s)
		}
	})
	b.Run("bytes-36B", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			shard.KeyBytes(buf)
		}
	})
	b.Run("uint64", func(b *testing.B) {
		b.ReportAllocs()
		var k uint64
		for b.Loop() {
			k = shard.KeyUint64(k)
		}
	})
}

// BenchmarkLookup is one routing decision through a Router: an atomic load
// and the strategy, for a precomputed key hash.
func BenchmarkLookup(b *testing.B) {
	for _, bl := range builders {
		for _, n := range []int{4, 16, 128} {
			s, err := bl.new(n)
			if err != nil {
				b.Fatal(err)
			}
			m, err := shard.NewMap(1, dbNames(n), s)
			if err != nil {
				b.Fatal(err)
			}
			r := shard.NewRouter(m)
			hs := make([]uint64, 1024)
			for i := range hs {
				hs[i] = shard.KeyUint64(uint64(i))
			}
			b.Run(fmt.Sprintf("%s/%d", bl.name, n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					r.Shard(hs[i&1023])
					i++
				}
			})
		}
	}
}

// BenchmarkPlan is the cost of planning 4→5 shards over the default 2²⁰
// samples (jump) and of an exact range diff.
func BenchmarkPlan(b *testing.B) {
	j4, _ := shard.NewJump(4)
	j5, _ := shard.NewJump(5)
	m4, _ := shard.NewMap(1, dbNames(4), j4)
	m5, _ := shard.NewMap(2, dbNames(5), j5)
	b.Run("jump-sample", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := shard.Plan(m4, m5, shard.PlanOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	r1, _ := shard.ParseRanges("-40,40-80,80-c0,c0-")
	r2, _ := shard.ParseRanges("-20,20-40,40-80,80-c0,c0-")
	a, _ := shard.NewMap(1, r1.Names(), r1)
	c, _ := shard.NewMap(2, r2.Names(), r2)
	b.Run("ranges-exact", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := shard.Plan(a, c, shard.PlanOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
