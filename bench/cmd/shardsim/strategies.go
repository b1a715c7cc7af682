package main

import (
	"slices"
	"strconv"

	"github.com/buraksezer/consistent"
	"github.com/ladder-go/ladder/shard"
)

// route maps a key to its shard's name.
type route func(key []byte) string

// change is the topology a strategy is built for.
type change int

const (
	base   change = iota // n shards
	add                  // n+1 shards
	remove               // n−1 shards
)

type strategy struct {
	name string
	// build returns the router for n shards after change c.
	build func(n int, c change) (route, error)
}

func names(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = "db" + strconv.Itoa(i)
	}
	return s
}

// topology returns the shard names for n shards after c: add appends a
// shard; remove drops the middle one, or the last when middle is false.
func topology(n int, c change, middle bool) []string {
	switch c {
	case add:
		return names(n + 1)
	case remove:
		all := names(n)
		i := n - 1
		if middle {
			i = n / 2
		}
		return slices.Delete(all, i, i+1)
	}
	return names(n)
}

// ladderRoute routes through a shard.Router holding a map of s over ns.
func ladderRoute(ns []string, s shard.Strategy, err error) (route, error) {
	if err != nil {
		return nil, err
	}
	m, err := shard.NewMap(1, ns, s)
	if err != nil {
		return nil, err
	}
	r := shard.NewRouter(m)
	return func(key []byte) string { return r.Map().Name(shard.KeyBytes(key)) }, nil
}

var strategies = []strategy{
	{"ladder modulo", func(n int, c change) (route, error) {
		ns := topology(n, c, false)
		s, err := shard.NewModulo(len(ns))
		return ladderRoute(ns, s, err)
	}},
	{"ladder jump", func(n int, c change) (route, error) {
		ns := topology(n, c, false)
		s, err := shard.NewJump(len(ns))
		return ladderRoute(ns, s, err)
	}},
	{"ladder rendezvous", func(n int, c change) (route, error) {
		ns := topology(n, c, true)
		s, err := shard.NewRendezvous(ns, shard.RendezvousOptions{})
		return ladderRoute(ns, s, err)
	}},
	{"ladder maglev", func(n int, c change) (route, error) {
		ns := topology(n, c, true)
		s, err := shard.NewMaglev(ns, shard.MaglevOptions{})
		return ladderRoute(ns, s, err)
	}},
	{"ladder consistent", func(n int, c change) (route, error) {
		ns := topology(n, c, true)
		s, err := shard.NewConsistent(ns, shard.ConsistentOptions{})
		return ladderRoute(ns, s, err)
	}},
	{"ladder consistent 7919/1.05", func(n int, c change) (route, error) {
		ns := topology(n, c, true)
		s, err := shard.NewConsistent(ns, shard.ConsistentOptions{PartitionCount: 7919, Load: 1.05})
		return ladderRoute(ns, s, err)
	}},
	{"ladder ranges", func(n int, c change) (route, error) {
		s, err := shard.NewRanges(evenRanges(n, c))
		if err != nil {
			return nil, err
		}
		return ladderRoute(s.Names(), s, nil)
	}},
	{"buraksezer/consistent", func(n int, c change) (route, error) {
		ns := topology(n, c, true)
		ms := make([]consistent.Member, len(ns))
		for i, s := range ns {
			ms[i] = member(s)
		}
		var ring *consistent.Consistent
		if err := catch(func() {
			ring = consistent.New(ms, consistent.Config{Hasher: shard.Hasher{}, PartitionCount: 271, ReplicationFactor: 20, Load: 1.25})
		}); err != nil {
			return nil, err
		}
		return func(key []byte) string { return ring.LocateKey(key).String() }, nil
	}},
	{"classic ring (160 vnodes)", func(n int, c change) (route, error) {
		ns := topology(n, c, true)
		r := newKetama(ns)
		return func(key []byte) string { return ns[r.shard(shard.KeyBytes(key))] }, nil
	}},
}

type member string

func (m member) String() string { return string(m) }

// evenRanges splits the hash space into n equal ranges db0..db<n-1>; add
// splits db0's range in two (the upper half becomes db<n>), as a Vitess
// split of one shard; remove merges the last range into the one before.
func evenRanges(n int, c change) []shard.Range {
	ns := names(n)
	step := ^uint64(0)/uint64(n) + 1
	rs := make([]shard.Range, n)
	for i := range rs {
		rs[i] = shard.Range{Name: ns[i], Start: uint64(i) * step, End: uint64(i+1) * step}
	}
	rs[n-1].End = 0
	switch c {
	case add:
		mid := rs[0].End / 2
		rs = append(rs, shard.Range{Name: "db" + strconv.Itoa(n), Start: mid, End: rs[0].End})
		rs[0].End = mid
	case remove:
		rs[n-2].End = 0
		rs = rs[:n-1]
	}
	return rs
}

// ketama is the classic virtual-node ring.
type ketama struct {
	points []uint64
	owner  []int32
}

func newKetama(ns []string) *ketama {
	type pt struct {
		h uint64
		o int32
	}
	var pts []pt
	for i, n := range ns {
		for v := range 160 {
			pts = append(pts, pt{shard.KeyString(n + "#" + strconv.Itoa(v)), int32(i)})
		}
	}
	slices.SortFunc(pts, func(a, b pt) int {
		if a.h < b.h {
			return -1
		} else if a.h > b.h {
			return 1
		}
		return 0
	})
	k := &ketama{}
	for _, p := range pts {
		k.points = append(k.points, p.h)
		k.owner = append(k.owner, p.o)
	}
	return k
}

func (k *ketama) shard(h uint64) int {
	i, _ := slices.BinarySearch(k.points, h)
	if i == len(k.points) {
		i = 0
	}
	return int(k.owner[i])
}
