package shard_test

import (
	"testing"

	"github.com/buraksezer/consistent"
	"github.com/ladder-go/ladder/shard"
)

// Golden placements: the shards of keys 0..999 over db0..db4, folded. If
// one of these changes, a release would send stored rows to other shards:
// that is a breaking change, never a refactoring.
func TestPlacementGolden(t *testing.T) {
	want := map[string]uint64{
		"modulo":               0x22d15a82081953df,
		"jump":                 0xce8b062090a1605e,
		"rendezvous":           0xa5164870c3f110b3,
		"maglev":               0x74ecfc9b806beb98,
		"consistent":           0x89a967ccc4a59b60,
		"consistent-7919-1.05": 0x9bd512281e0b4e23,
	}
	for _, b := range builders {
		s, err := b.new(5)
		if err != nil {
			t.Fatal(err)
		}
		if got := fold(s); got != want[b.name] {
			t.Errorf("%s: placements fold to %#x, want %#x", b.name, got, want[b.name])
		}
	}
	r, err := shard.ParseRanges("-40,40-80,80-c0,c0-")
	if err != nil {
		t.Fatal(err)
	}
	if got := fold(r); got != 0x5a3353b31e1ec1c0 {
		t.Errorf("ranges: placements fold to %#x, want 0x5a3353b31e1ec1c0", got)
	}
}

type member string

func (m member) String() string { return string(m) }

// Consistent places keys exactly where buraksezer/consistent's LocateKey
// does when given shard.Hasher: it is that library, with its table read
// without a lock.
func TestConsistentMatchesLocateKey(t *testing.T) {
	ns := dbNames(6)
	ms := make([]consistent.Member, len(ns))
	for i, n := range ns {
		ms[i] = member(n)
	}
	ring := consistent.New(ms, consistent.Config{Hasher: shard.Hasher{}, PartitionCount: 271, ReplicationFactor: 20, Load: 1.25})
	c, err := shard.NewConsistent(ns, shard.ConsistentOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		key := []byte("user:" + string(rune('a'+i%26)) + string(rune(i)))
		if got, want := ns[c.Shard(shard.KeyBytes(key))], ring.LocateKey(key).String(); got != want {
			t.Fatalf("key %q: Consistent says %s, LocateKey says %s", key, got, want)
		}
	}
}
