package shard

import "maps"

// DirectoryOptions configures [NewDirectory].
type DirectoryOptions struct {
	// MaxEntries bounds the number of overrides: a directory is for the few
	// keys that must be placed by hand (a hot tenant on its own shard), not
	// a lookup table for every key. Zero means 4096.
	MaxEntries int
}

const defaultMaxEntries = 4096

// Directory places chosen keys explicitly and every other key by a fallback
// strategy: the lookup-vindex or tenant-isolation move (Vitess, Citus's
// isolate_tenant_to_new_shard) used to give a hot tenant a shard of its own.
// Overrides are keyed by the key's hash (KeyString("tenant-42")), so they
// cost one map probe per lookup. A Directory is immutable: [Directory.With]
// and [Directory.Without] return a changed copy (copy-on-write) to be put in
// a new [Map] version and swapped in with [Router.Swap].
type Directory struct {
	fallback Strategy
	over     map[uint64]int32
	max      int
}

// NewDirectory returns a directory over fallback with the given overrides
// (key hash → shard number, which must be a shard of fallback).
func NewDirectory(fallback Strategy, overrides map[uint64]int, opts DirectoryOptions) (*Directory, error) {
	if fallback == nil {
		return nil, invalid("Directory fallback: nil")
	}
	if fallback.Len() < 1 {
		return nil, invalid("Directory fallback %T: no shards (built without its constructor?)", fallback)
	}
	d := &Directory{fallback: fallback, max: opts.MaxEntries, over: make(map[uint64]int32, len(overrides))}
	switch {
	case d.max < 0:
		return nil, invalid("Directory MaxEntries %d: must be ≥ 0", d.max)
	case d.max == 0:
		d.max = defaultMaxEntries
	}
	if len(overrides) > d.max {
		return nil, invalid("Directory overrides: %d: more than MaxEntries %d", len(overrides), d.max)
	}
	for h, s := range overrides {
		if err := d.check(h, s); err != nil {
			return nil, err
		}
		d.over[h] = int32(s)
	}
	return d, nil
}

func (d *Directory) check(h uint64, s int) error {
	if s < 0 || s >= d.Len() {
		return invalid("Directory override %#x → shard %d: no such shard (have %d)", h, s, d.Len())
	}
	return nil
}

// With returns a copy of d where key hash h goes to shard s.
func (d *Directory) With(h uint64, s int) (*Directory, error) {
	if err := d.check(h, s); err != nil {
		return nil, err
	}
	if _, ok := d.over[h]; !ok && len(d.over) >= d.max {
		return nil, invalid("Directory override %#x: MaxEntries %d reached", h, d.max)
	}
	c := *d
	c.over = maps.Clone(d.over)
	if c.over == nil {
		c.over = map[uint64]int32{}
	}
	c.over[h] = int32(s)
	return &c, nil
}

// Without returns a copy of d without an override for h.
func (d *Directory) Without(h uint64) *Directory {
	if d == nil {
		return nil
	}
	c := *d
	c.over = maps.Clone(d.over)
	delete(c.over, h)
	return &c
}

// Lookup returns the override for h, if any.
func (d *Directory) Lookup(h uint64) (shard int, ok bool) {
	if d == nil {
		return 0, false
	}
	s, ok := d.over[h]
	return int(s), ok
}

// Overrides returns a copy of the overrides.
func (d *Directory) Overrides() map[uint64]int {
	if d == nil {
		return map[uint64]int{}
	}
	out := make(map[uint64]int, len(d.over))
	for h, s := range d.over {
		out[h] = int(s)
	}
	return out
}

// Fallback returns the strategy for keys without an override.
func (d *Directory) Fallback() Strategy {
	if d == nil {
		return nil
	}
	return d.fallback
}

// Shard returns h's override, or the fallback's choice.
func (d *Directory) Shard(h uint64) int {
	if d == nil || d.fallback == nil {
		return -1
	}
	if len(d.over) != 0 {
		if s, ok := d.over[h]; ok {
			return int(s)
		}
	}
	return d.fallback.Shard(h)
}

// Len returns the number of shards.
func (d *Directory) Len() int {
	if d == nil || d.fallback == nil {
		return 0
	}
	return d.fallback.Len()
}
