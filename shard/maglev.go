package shard

import "slices"

// MaglevOptions configures [NewMaglev].
type MaglevOptions struct {
	// TableSize is the lookup table's size M: a prime ≥ 100 × shards (the
	// Maglev paper's bound for balance within about 1%). Zero means the
	// smallest prime ≥ max(100 × shards, 65537). Larger tables move fewer
	// extra keys on a change and cost 2 bytes per entry.
	TableSize int
	// Weights, when set, has one weight > 0 per shard; a shard owns table
	// entries (and so keys) in proportion to its weight. Nil means equal.
	Weights []float64
}

// Maglev is Google's Maglev hashing (Eisenbud et al., NSDI 2016): every
// shard walks its own permutation of a prime-sized table, taking turns to
// claim entries, and a lookup reads one entry: O(1), a few ns, whatever
// the shard count. Shards own M/n entries ± 1 (weighted: in proportion), so
// balance is within about 1% at the default size. On a change a few more
// keys than necessary move, because entries reshuffle between surviving
// shards; the excess grows with n²/TableSize. Measured for n→n+1 (keys
// moved over the ideal 1/(n+1)):
//
//	shards   65537    262147   1048573  4194301 (TableSize)
//	4        1.00     1.00     1.00     1.00
//	16       1.05     1.03     1.01     1.01
//	64       1.29     1.13     1.05     1.02
//	128      1.81     1.37     1.16     1.07
//
// So past a few tens of shards, size the table to about 250·n² (2 bytes an
// entry) if reshards must move little, or use [Jump] or [Rendezvous],
// which move exactly the ideal share. Building a table costs O(M log M)
// (measured on a busy 2-core machine: 20–40 ms at 65537 entries, 0.3–0.6 s
// at 2²⁰, 3–5 s at 2²²), which is why the default stays small. Placement depends on shard names,
// not positions. Up to 65536 shards.
type Maglev struct {
	names []string
	m     uint64
	table []uint16
}

// NewMaglev builds the Maglev table for the named shards: O(M log M) time
// and 2·M bytes (plus M bytes while building).
func NewMaglev(shards []string, opts MaglevOptions) (*Maglev, error) {
	if err := checkNames("Maglev", shards); err != nil {
		return nil, err
	}
	n := len(shards)
	if n > 1<<16 {
		return nil, invalid("Maglev shards: %d: must be ≤ 65536", n)
	}
	w, err := checkWeights("Maglev", n, opts.Weights)
	if err != nil {
		return nil, err
	}
	m := opts.TableSize
	switch {
	case m < 0:
		return nil, invalid("Maglev TableSize %d: must be ≥ 0", m)
	case m == 0:
		m = nextPrime(max(100*n, 65537))
	case m < 100*n:
		return nil, invalid("Maglev TableSize %d: must be ≥ 100 × %d shards", m, n)
	case m > 1<<26:
		return nil, invalid("Maglev TableSize %d: must be ≤ 2²⁶", m)
	case !isPrime(m):
		return nil, invalid("Maglev TableSize %d: must be prime", m)
	}
	g := &Maglev{names: slices.Clone(shards), m: uint64(m), table: populate(shards, w, m)}
	return g, nil
}

// populate fills the table: each shard in turn claims the next free entry
// of its permutation (offset + j·skip mod M). With weights, a shard takes
// a turn each time its accumulated weight reaches the largest weight.
func populate(shards []string, w []float64, m int) []uint16 {
	n := len(shards)
	// cur[i] is shard i's next candidate entry, offset + j·skip mod M,
	// stepped by addition (no division per probe).
	cur := make([]uint64, n)
	skip := make([]uint64, n)
	for i, s := range shards {
		h := KeyString(s)
		cur[i] = h % uint64(m)
		skip[i] = mix(h, 0x6d61676c6576)%uint64(m-1) + 1
	}
	step := func(i int) {
		if cur[i] += skip[i]; cur[i] >= uint64(m) {
			cur[i] -= uint64(m)
		}
	}
	credit := make([]float64, n)
	wmax := 1.0
	if w != nil {
		wmax = slices.Max(w)
	}
	table := make([]uint16, m)
	taken := make([]bool, m) // kept apart: every uint16 is a valid shard
	filled := 0
	for filled < m {
		for i := 0; i < n && filled < m; i++ {
			if w != nil {
				credit[i] += w[i]
				if credit[i] < wmax {
					continue
				}
				credit[i] -= wmax
			}
			for taken[cur[i]] {
				step(i)
			}
			c := cur[i]
			taken[c], table[c] = true, uint16(i)
			step(i)
			filled++
		}
	}
	return table
}

// Shard returns the owner of h's table entry.
func (g *Maglev) Shard(h uint64) int {
	if g == nil || len(g.table) == 0 {
		return -1
	}
	return int(g.table[fastrange(h, g.m)])
}

// Len returns the number of shards.
func (g *Maglev) Len() int {
	if g == nil {
		return 0
	}
	return len(g.names)
}

// Names returns the shard names, index = shard number.
func (g *Maglev) Names() []string {
	if g == nil {
		return nil
	}
	return slices.Clone(g.names)
}

// TableSize returns M, the table's size.
func (g *Maglev) TableSize() int {
	if g == nil {
		return 0
	}
	return int(g.m)
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := 3; d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func nextPrime(n int) int {
	for !isPrime(n) {
		n++
	}
	return n
}
