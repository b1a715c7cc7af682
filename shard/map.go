package shard

import (
	"fmt"
	"slices"
	"sync/atomic"
)

// Map is one version of the shard topology: the shard names and the
// strategy that places keys on them. It is immutable; a change is a new Map
// with a higher version, put in place with [Router.Swap]. Build one with
// [NewMap]; the zero Map routes nothing.
type Map struct {
	version uint64
	names   []string
	s       Strategy
}

// NewMap returns version version of a topology: shards[i] is the name of
// shard number i (a database, a DSN key, a cluster) and s places keys on
// them. Names must be unique and non-empty and s must have len(shards)
// shards; a strategy built over names (rendezvous, Maglev, consistent,
// ranges) must have been built over these names in this order.
func NewMap(version uint64, shards []string, s Strategy) (*Map, error) {
	if s == nil {
		return nil, invalid("NewMap strategy: nil")
	}
	if err := checkNames("NewMap", shards); err != nil {
		return nil, err
	}
	if s.Len() != len(shards) {
		return nil, invalid("NewMap: strategy has %d shards, names %d", s.Len(), len(shards))
	}
	base := s
	for {
		d, ok := base.(*Directory)
		if !ok {
			break
		}
		base = d.fallback
	}
	if nm, ok := base.(named); ok {
		if got := nm.Names(); !slices.Equal(got, shards) {
			return nil, invalid("NewMap shards %q: strategy was built over %q", shards, got)
		}
	}
	return &Map{version: version, names: slices.Clone(shards), s: s}, nil
}

// Version returns the map's version.
func (m *Map) Version() uint64 {
	if m == nil {
		return 0
	}
	return m.version
}

// Shards returns a copy of the shard names, index = shard number.
func (m *Map) Shards() []string {
	if m == nil {
		return nil
	}
	return slices.Clone(m.names)
}

// Len returns the number of shards.
func (m *Map) Len() int {
	if m == nil {
		return 0
	}
	return len(m.names)
}

// Strategy returns the map's strategy.
func (m *Map) Strategy() Strategy {
	if m == nil {
		return nil
	}
	return m.s
}

// Shard returns the shard number for key hash h. A strategy that returns a
// number out of range (a user's strategy with a bug) is overridden by jump
// hashing over the map's shards, so routing never panics. A map with no
// shards (the zero Map, or nil: a zero [Router]'s) returns -1.
func (m *Map) Shard(h uint64) int {
	if m == nil || len(m.names) == 0 || m.s == nil {
		return -1
	}
	s := m.s.Shard(h)
	if uint(s) >= uint(len(m.names)) {
		return (&Jump{n: int64(len(m.names))}).Shard(h)
	}
	return s
}

// Name returns the name of the shard for key hash h ("" for a map with no
// shards).
func (m *Map) Name(h uint64) string {
	s := m.Shard(h)
	if s < 0 {
		return ""
	}
	return m.names[s]
}

// Index returns the shard number of the named shard, or -1.
func (m *Map) Index(name string) int {
	if m == nil {
		return -1
	}
	return slices.Index(m.names, name)
}

// WithOverride returns version version of m where key hash h goes to the
// named shard, whatever the strategy says: the tenant-isolation move. The
// strategy is wrapped in a [Directory] (or the existing one copied).
func (m *Map) WithOverride(version uint64, h uint64, shard string) (*Map, error) {
	i := m.Index(shard)
	if i < 0 {
		return nil, invalid("WithOverride shard %q: not in the map", shard)
	}
	var d *Directory
	var err error
	if cur, ok := m.s.(*Directory); ok {
		d, err = cur.With(h, i)
	} else {
		d, err = NewDirectory(m.s, map[uint64]int{h: i}, DirectoryOptions{})
	}
	if err != nil {
		return nil, err
	}
	return &Map{version: version, names: m.names, s: d}, nil
}

// String describes the map: "shard map v3: 4 shards (*shard.Jump)".
func (m *Map) String() string {
	if m == nil {
		return "shard map <nil>"
	}
	return fmt.Sprintf("shard map v%d: %d shards (%T)", m.version, len(m.names), m.s)
}

// Router holds the current [Map] and replaces it atomically, so a lookup
// sees either the old map or the new one, never half a change. A lookup is
// one atomic load plus the strategy, without allocation. The zero Router
// holds no map until the first Swap(nil, m): its Map is nil and its Shard
// -1.
type Router struct {
	cur atomic.Pointer[Map]
}

// NewRouter returns a router holding m.
func NewRouter(m *Map) *Router {
	r := &Router{}
	r.cur.Store(m)
	return r
}

// Map returns the current map (nil for a zero Router). Take it once per
// operation when you need the shard number and name to agree, or the
// version the decision was made under.
func (r *Router) Map() *Map { return r.cur.Load() }

// Shard returns the shard number for h under the current map. A Router
// that holds no map (a zero Router before its first Swap) has no answer:
// Shard returns -1 there.
func (r *Router) Shard(h uint64) int { return r.cur.Load().Shard(h) }

// Swap replaces the current map with next if the current map is old
// (compare-and-swap). It returns [ErrConflict] if another Swap got there
// first (the current map is not old) and [ErrVersion] if next's version is
// not greater than old's; the current map is then unchanged.
func (r *Router) Swap(old, next *Map) error {
	if next.Len() == 0 {
		return invalid("Swap next %v: no shards (build maps with NewMap)", next)
	}
	if old != nil && next.version <= old.version {
		return fmt.Errorf("%w: %d after %d", ErrVersion, next.version, old.version)
	}
	if !r.cur.CompareAndSwap(old, next) {
		return fmt.Errorf("%w: expected version %v, current is %v", ErrConflict, versionOf(old), versionOf(r.cur.Load()))
	}
	return nil
}

// versionOf describes m's version for an error message.
func versionOf(m *Map) any {
	if m == nil {
		return "none"
	}
	return m.version
}
