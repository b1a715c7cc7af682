package shard_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// The hashes of these keys must never change: a change would send stored
// rows to other shards after an upgrade. The values are XXH64 (seed 0), as
// computed by the reference implementation; keys cover every code path
// (lengths 0, 1–3, 4–7, 8–31, ≥ 32 with and without tails).
var goldenStrings = []struct {
	key  string
	want uint64
}{
	{"", 0xef46db3751d8e999},
	{"a", 0xd24ec4f1a98c6e5b},
	{"abc", 0x44bc2cf5ad770999},
	{"user:42", 0xdc1fea7da8d2d1c2},
	{"hello world, this is a longer key of more than 32 bytes", 0xad76a1d4f91033b0},
}

func TestKeyStringGolden(t *testing.T) {
	for _, g := range goldenStrings {
		if got := shard.KeyString(g.key); got != g.want {
			t.Errorf("KeyString(%q) = %#x, want %#x", g.key, got, g.want)
		}
		if got := shard.KeyBytes([]byte(g.key)); got != g.want {
			t.Errorf("KeyBytes(%q) = %#x, want %#x", g.key, got, g.want)
		}
	}
}

// One hash per length 0..64 of a fixed pattern, folded into one value, pins
// every stripe/tail combination at once.
func TestKeyStringGoldenAllLengths(t *testing.T) {
	pattern := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 2)
	var fold uint64
	for n := 0; n <= 64; n++ {
		fold = fold*31 + shard.KeyString(pattern[:n])
	}
	const want = 0xcd8791ad2c13d219 // github.com/cespare/xxhash/v2 Sum64String, same fold
	if fold != want {
		t.Errorf("folded hashes of lengths 0..64 = %#x, want %#x", fold, uint64(want))
	}
}

func TestKeyUint64Golden(t *testing.T) {
	for _, g := range []struct{ k, want uint64 }{
		{0, 0x34c96acdcadb1bbb},
		{1, 0x9f29cb17a2a49995},
		{42, 0xb556806fb6d14353},
		{1 << 63, 0x3f425eacf01544e0},
	} {
		if got := shard.KeyUint64(g.k); got != g.want {
			t.Errorf("KeyUint64(%d) = %#x, want %#x", g.k, got, g.want)
		}
	}
}

// KeyUint64 is documented as the hash of the key's 8 little-endian bytes.
func TestKeyUint64IsHashOfLittleEndianBytes(t *testing.T) {
	for _, k := range []uint64{0, 1, 2, 255, 256, 1<<32 + 7, 1<<64 - 1, 0xdeadbeefcafebabe} {
		if a, b := shard.KeyUint64(k), shard.KeyBytes(binary.LittleEndian.AppendUint64(nil, k)); a != b {
			t.Errorf("KeyUint64(%d) = %#x, KeyBytes(LE) = %#x", k, a, b)
		}
	}
}

func TestKeyHashingDoesNotAllocate(t *testing.T) {
	s := "tenant:acme-corporation:user:1234567"
	b := []byte(s)
	var sink uint64
	if n := testing.AllocsPerRun(100, func() {
		sink += shard.KeyString(s) + shard.KeyBytes(b) + shard.KeyUint64(sink)
	}); n != 0 {
		t.Errorf("allocs per run = %v, want 0", n)
	}
}
