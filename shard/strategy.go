package shard

import "math/bits"

// Strategy places a key hash on one of Len() shards. Implementations are
// immutable and safe for concurrent use; Shard must not allocate and must
// return a value in [0, Len()). The package's strategies declared without
// their constructor (a zero value, or a nil pointer) have no shards: Len
// returns 0 and Shard -1, and [NewMap] and [NewDirectory] reject them.
//
// The package's strategies, from the naive baseline to the most flexible:
// [Modulo], [Jump], [Rendezvous], [Maglev], [Consistent] (bounded loads),
// [Ranges] (key-hash ranges, as Vitess keyspace ranges) and [Directory]
// (explicit overrides over another strategy).
type Strategy interface {
	// Shard returns the shard number for the key hash h (from KeyString,
	// KeyBytes or KeyUint64).
	Shard(h uint64) int
	// Len returns the number of shards.
	Len() int
}

// named is implemented by strategies whose placement depends on the shard
// names (rendezvous, Maglev, consistent, ranges): [NewMap] checks the map's
// names against them, so that a key's shard is the one the strategy meant.
type named interface {
	Names() []string
}

// Modulo is the seed's "user_id % 4": shard = h mod n. It balances well but
// when n changes almost every key moves (n/(n+1) of them going from n to
// n+1 shards, against the 1/(n+1) that must), so a reshard copies nearly
// all data. It is here as the baseline the other strategies are measured
// against; prefer [Jump] for numbered shards.
type Modulo struct{ n uint64 }

// NewModulo returns the modulo strategy over n shards.
func NewModulo(n int) (*Modulo, error) {
	if n < 1 {
		return nil, invalid("Modulo n %d: must be ≥ 1", n)
	}
	return &Modulo{n: uint64(n)}, nil
}

// Shard returns h mod n.
func (m *Modulo) Shard(h uint64) int {
	if m == nil || m.n == 0 {
		return -1
	}
	return int(h % m.n)
}

// Len returns the number of shards.
func (m *Modulo) Len() int {
	if m == nil {
		return 0
	}
	return int(m.n)
}

// Jump is jump consistent hashing (Lamping and Veach, 2014): no memory, a
// lookup in O(ln n), perfect balance in expectation, and when shards go from
// n to n+1 exactly the 1/(n+1) of keys that must move do, all to the new
// shard. Shards are numbered: it can only add or remove the last shard
// (removing a shard in the middle moves most keys); use [Rendezvous] or
// [Maglev] when arbitrary shards come and go.
type Jump struct{ n int64 }

// NewJump returns jump consistent hashing over n shards.
func NewJump(n int) (*Jump, error) {
	if n < 1 {
		return nil, invalid("Jump n %d: must be ≥ 1", n)
	}
	if n > 1<<31-1 {
		return nil, invalid("Jump n %d: must be < 2³¹", n)
	}
	return &Jump{n: int64(n)}, nil
}

// Shard returns the jump hash bucket of h.
func (j *Jump) Shard(h uint64) int {
	if j == nil {
		return -1
	}
	var b, k int64 = -1, 0 // n = 0 (a zero Jump): -1
	for k < j.n {
		b = k
		h = h*2862933555777941757 + 1
		// int64(h>>33) fits 31 bits: a signed conversion, cheaper than
		// uint64's, with the same value as the paper's.
		k = int64(float64(b+1) * (float64(int64(1)<<31) / float64(int64(h>>33)+1)))
	}
	return int(b)
}

// Len returns the number of shards.
func (j *Jump) Len() int {
	if j == nil {
		return 0
	}
	return int(j.n)
}

// fastrange maps h uniformly onto [0, n) with a multiply instead of a
// division (Lemire), using h's high bits.
func fastrange(h uint64, n uint64) uint64 {
	hi, _ := bits.Mul64(h, n)
	return hi
}
