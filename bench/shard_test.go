package bench

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"
	"github.com/ladder-go/ladder/shard"
)

// shardNames returns "db0" … "db<n-1>".
func shardNames(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = "db" + strconv.Itoa(i)
	}
	return s
}

type shardMember string

func (m shardMember) String() string { return string(m) }

// ketamaRing is the classic virtual-node ring (ketama, Karger et al.): each
// shard hashes to 160 points, a key goes to the next point clockwise. It is
// the baseline the bounded-load, jump and Maglev schemes improve on.
type ketamaRing struct {
	points []uint64
	owner  []int32
}

func newKetamaRing(names []string) *ketamaRing {
	const vnodes = 160
	type pt struct {
		h uint64
		o int32
	}
	var pts []pt
	for i, n := range names {
		for v := range vnodes {
			pts = append(pts, pt{shard.KeyString(n + "#" + strconv.Itoa(v)), int32(i)})
		}
	}
	slices.SortFunc(pts, func(a, b pt) int {
		switch {
		case a.h < b.h:
			return -1
		case a.h > b.h:
			return 1
		}
		return 0
	})
	r := &ketamaRing{points: make([]uint64, len(pts)), owner: make([]int32, len(pts))}
	for i, p := range pts {
		r.points[i], r.owner[i] = p.h, p.o
	}
	return r
}

func (r *ketamaRing) Shard(h uint64) int {
	i, _ := slices.BinarySearch(r.points, h)
	if i == len(r.points) {
		i = 0
	}
	return int(r.owner[i])
}

func (r *ketamaRing) Len() int { return 0 } // unused by the benchmarks

// BenchmarkShardLookup routes a 14–16 byte key (hash included) to one of n
// shards: ladder's strategies through a shard.Router, and
// buraksezer/consistent's LocateKey with the same hash (shard.Hasher), so
// the difference is placement cost alone. ketama-ring is a classic
// 160-virtual-node ring.
func BenchmarkShardLookup(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%d", 1_000_000+i*7919)
	}
	for _, n := range []int{4, 16, 128} {
		names := shardNames(n)
		ladder := map[string]func() (shard.Strategy, error){
			"modulo":     func() (shard.Strategy, error) { return shard.NewModulo(n) },
			"jump":       func() (shard.Strategy, error) { return shard.NewJump(n) },
			"rendezvous": func() (shard.Strategy, error) { return shard.NewRendezvous(names, shard.RendezvousOptions{}) },
			"maglev":     func() (shard.Strategy, error) { return shard.NewMaglev(names, shard.MaglevOptions{}) },
			"consistent": func() (shard.Strategy, error) { return shard.NewConsistent(names, shard.ConsistentOptions{}) },
		}
		for _, name := range []string{"jump", "maglev", "rendezvous", "consistent", "modulo"} {
			s, err := ladder[name]()
			if err != nil {
				b.Fatal(err)
			}
			m, err := shard.NewMap(1, names, s)
			if err != nil {
				b.Fatal(err)
			}
			r := shard.NewRouter(m)
			b.Run(fmt.Sprintf("ladder-%s/%d", name, n), func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					r.Map().Shard(shard.KeyBytes(keys[i&1023]))
					i++
				}
			})
		}
		ms := make([]consistent.Member, n)
		for i, s := range names {
			ms[i] = shardMember(s)
		}
		c := consistent.New(ms, consistent.Config{Hasher: shard.Hasher{}, PartitionCount: 271, ReplicationFactor: 20, Load: 1.25})
		b.Run(fmt.Sprintf("buraksezer-consistent/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.LocateKey(keys[i&1023])
				i++
			}
		})
		ring := newKetamaRing(names)
		b.Run(fmt.Sprintf("ketama-ring/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ring.Shard(shard.KeyBytes(keys[i&1023]))
				i++
			}
		})
	}
}

// ladder's hand-written XXH64 agrees with the reference Go implementation
// on every length that exercises a code path.
func TestShardKeyHashIsXXH64(t *testing.T) {
	buf := make([]byte, 300)
	for i := range buf {
		buf[i] = byte(i*131 + 7)
	}
	for n := range len(buf) {
		if got, want := shard.KeyBytes(buf[:n]), xxhash.Sum64(buf[:n]); got != want {
			t.Fatalf("length %d: shard.KeyBytes = %#x, xxhash.Sum64 = %#x", n, got, want)
		}
	}
}

// BenchmarkShardLookupParallel routes from every core at 16 shards: the
// Router is one atomic load of an immutable map, while LocateKey takes the
// library's RWMutex on every call.
func BenchmarkShardLookupParallel(b *testing.B) {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:%d", 1_000_000+i*7919)
	}
	names := shardNames(16)
	par := func(b *testing.B, route func([]byte)) {
		b.ReportAllocs()
		parallel(b, func(seed uint64, n int) {
			i := int(seed & 1023)
			for range n {
				route(keys[i&1023])
				i++
			}
		})
	}
	for _, v := range []struct {
		name  string
		build func() (shard.Strategy, error)
	}{
		{"jump", func() (shard.Strategy, error) { return shard.NewJump(16) }},
		{"maglev", func() (shard.Strategy, error) { return shard.NewMaglev(names, shard.MaglevOptions{}) }},
		{"consistent", func() (shard.Strategy, error) { return shard.NewConsistent(names, shard.ConsistentOptions{}) }},
	} {
		s, err := v.build()
		if err != nil {
			b.Fatal(err)
		}
		m, err := shard.NewMap(1, names, s)
		if err != nil {
			b.Fatal(err)
		}
		r := shard.NewRouter(m)
		b.Run("ladder-"+v.name, func(b *testing.B) {
			par(b, func(k []byte) { r.Map().Shard(shard.KeyBytes(k)) })
		})
	}
	ms := make([]consistent.Member, len(names))
	for i, s := range names {
		ms[i] = shardMember(s)
	}
	c := consistent.New(ms, consistent.Config{Hasher: shard.Hasher{}, PartitionCount: 271, ReplicationFactor: 20, Load: 1.25})
	b.Run("buraksezer-consistent", func(b *testing.B) {
		par(b, func(k []byte) { c.LocateKey(k) })
	})
}
