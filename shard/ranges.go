package shard

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Range is a slice of the 64-bit key-hash space owned by one shard:
// hashes h with Start ≤ h < End. End 0 means the end of the space (2⁶⁴),
// as in Vitess, where the last shard is "c0-".
type Range struct {
	Name       string
	Start, End uint64
}

// Contains reports whether h lies in r.
func (r Range) Contains(h uint64) bool { return h >= r.Start && (r.End == 0 || h < r.End) }

// String returns r in Vitess form: hex bounds of the key hash, trailing zero
// bytes dropped, an empty bound for the start or end of the space
// ("-40", "40-80", "80-").
func (r Range) String() string { return hexBound(r.Start) + "-" + hexBound(r.End) }

// Ranges maps contiguous key-hash ranges to shards, in the style of Vitess
// keyspace-id ranges: the key hash is read as a big-endian keyspace id, and
// shard "40-80" owns ids from 0x40… up to, not including, 0x80…. The ranges
// cover the whole space with no gap and no overlap; shard number = position
// in Start order. Resharding splits or merges ranges, and [Plan] says
// exactly which ranges move. A lookup is a binary search.
//
// Because every range is a contiguous slice of the hash space, ranges also
// suit key hashes that preserve order (a user's own uint64 keyspace id)
// where range scans should stay on one shard.
type Ranges struct {
	ranges []Range
	starts []uint64
}

// NewRanges validates and sorts the ranges: names unique and non-empty, the
// first starting at 0, each starting where the previous ends, the last
// ending at 0 (the end of the space).
func NewRanges(ranges []Range) (*Ranges, error) {
	if len(ranges) == 0 {
		return nil, invalid("Ranges: none given: need ≥ 1")
	}
	rs := slices.Clone(ranges)
	slices.SortStableFunc(rs, func(a, b Range) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name
	}
	if err := checkNames("Ranges", names); err != nil {
		return nil, err
	}
	if rs[0].Start != 0 {
		return nil, invalid("Ranges: gap before %q (%s): the first range must start at 0", rs[0].Name, rs[0])
	}
	for i, r := range rs {
		last := i == len(rs)-1
		switch {
		case r.End == 0 && !last:
			return nil, invalid("Ranges: %q (%s) overlaps %q (%s)", r.Name, r, rs[i+1].Name, rs[i+1])
		case r.End != 0 && r.End <= r.Start:
			return nil, invalid("Ranges: %q (%s): end must be after start", r.Name, r)
		case last && r.End != 0:
			return nil, invalid("Ranges: gap after %q (%s): the last range must reach the end", r.Name, r)
		case !last && rs[i+1].Start < r.End:
			return nil, invalid("Ranges: %q (%s) overlaps %q (%s)", r.Name, r, rs[i+1].Name, rs[i+1])
		case !last && rs[i+1].Start > r.End:
			return nil, invalid("Ranges: gap between %q (%s) and %q (%s)", r.Name, r, rs[i+1].Name, rs[i+1])
		}
	}
	g := &Ranges{ranges: rs, starts: make([]uint64, len(rs))}
	for i, r := range rs {
		g.starts[i] = r.Start
	}
	return g, nil
}

// ParseRanges parses Vitess-style shard names separated by commas, each
// "start-end" in hex keyspace-id bytes with an empty start or end for the
// edge of the space: "-80,80-" is two shards, "-40,40-80,80-c0,c0-" four,
// "-" (or "0", Vitess's name for an unsharded keyspace's shard) one. Each
// name becomes the shard's name, as typed (spaces around a
// name are trimmed). Bounds are 1 to 8 bytes (2 to 16 hex digits), read as
// the high bytes of the key hash. The ranges must cover the space exactly.
func ParseRanges(spec string) (*Ranges, error) {
	parts := strings.Split(spec, ",")
	rs := make([]Range, 0, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "0" { // Vitess's name for the one shard of an unsharded keyspace
			rs = append(rs, Range{Name: p})
			continue
		}
		lo, hi, ok := strings.Cut(p, "-")
		if !ok {
			return nil, invalid("ParseRanges: shard %d %q: want start-end, e.g. \"-80\" or \"40-80\"", i, p)
		}
		start, err := parseBound(lo)
		if err != nil {
			return nil, invalid("ParseRanges: shard %d %q: start: %v", i, p, err)
		}
		end, err := parseBound(hi)
		if err != nil {
			return nil, invalid("ParseRanges: shard %d %q: end: %v", i, p, err)
		}
		if lo != "" && start == 0 {
			return nil, invalid("ParseRanges: shard %d %q: start %q is 0: write it empty", i, p, lo)
		}
		if hi != "" && end == 0 {
			return nil, invalid("ParseRanges: shard %d %q: end %q is 0: an empty end means the end of the space", i, p, hi)
		}
		rs = append(rs, Range{Name: p, Start: start, End: end})
	}
	return NewRanges(rs)
}

// parseBound reads up to 16 hex digits (whole bytes) as the high bytes of
// a uint64; "" is 0.
func parseBound(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	if len(s)%2 != 0 || len(s) > 16 {
		return 0, fmt.Errorf("%q: want 1 to 8 bytes in hex (an even number of digits, ≤ 16)", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("%q: not a hex digit string", s)
	}
	return v << (64 - 4*len(s)), nil
}

// hexBound formats a bound as whole hex bytes, trailing zero bytes dropped;
// 0 is "".
func hexBound(v uint64) string {
	if v == 0 {
		return ""
	}
	s := fmt.Sprintf("%016x", v)
	for len(s) > 2 && s[len(s)-2:] == "00" {
		s = s[:len(s)-2]
	}
	return s
}

// Shard returns the number of the range holding h.
func (g *Ranges) Shard(h uint64) int {
	if g == nil || len(g.starts) == 0 {
		return -1
	}
	// The last start ≤ h; starts[0] is 0, so there is one.
	lo, hi := 0, len(g.starts)
	for hi-lo > 1 {
		mid := int(uint(lo+hi) >> 1)
		if g.starts[mid] <= h {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo
}

// Len returns the number of shards.
func (g *Ranges) Len() int {
	if g == nil {
		return 0
	}
	return len(g.ranges)
}

// Names returns the shard names in Start order, index = shard number.
func (g *Ranges) Names() []string {
	if g == nil {
		return nil
	}
	out := make([]string, len(g.ranges))
	for i, r := range g.ranges {
		out[i] = r.Name
	}
	return out
}

// Ranges returns the ranges in Start order, index = shard number.
func (g *Ranges) Ranges() []Range {
	if g == nil {
		return nil
	}
	return slices.Clone(g.ranges)
}
