package shard_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// A directory sends its keys where it says and every other key where the
// fallback does.
func TestDirectoryOverridesChosenKeysOnly(t *testing.T) {
	jump, _ := shard.NewJump(4)
	hot := shard.KeyString("tenant:acme")
	target := (jump.Shard(hot) + 1) % 4
	d, err := shard.NewDirectory(jump, map[uint64]int{hot: target}, shard.DirectoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Shard(hot); got != target {
		t.Errorf("hot tenant on %d, want %d", got, target)
	}
	for i := range 10000 {
		h := shard.KeyUint64(uint64(i))
		if h != hot && d.Shard(h) != jump.Shard(h) {
			t.Fatalf("key %d: directory %d, fallback %d", i, d.Shard(h), jump.Shard(h))
		}
	}
}

// With and Without return changed copies; the original never changes, so a
// map holding it keeps routing as before until a new map is swapped in.
func TestDirectoryIsCopyOnWrite(t *testing.T) {
	jump, _ := shard.NewJump(4)
	a, b := shard.KeyString("a"), shard.KeyString("b")
	d0, _ := shard.NewDirectory(jump, nil, shard.DirectoryOptions{MaxEntries: 1})
	d1, err := d0.With(a, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d0.Lookup(a); ok {
		t.Error("With changed the original")
	}
	if s, ok := d1.Lookup(a); !ok || s != 3 {
		t.Errorf("d1.Lookup(a) = %d, %v", s, ok)
	}
	if _, err := d1.With(b, 0); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Errorf("second entry past MaxEntries 1: err = %v", err)
	}
	if d2, err := d1.With(a, 1); err != nil || d2.Shard(a) != 1 {
		t.Errorf("replacing an entry at the bound: %v", err)
	}
	d3 := d1.Without(a)
	if _, ok := d3.Lookup(a); ok || d3.Shard(a) != jump.Shard(a) {
		t.Error("Without kept the override")
	}
	if _, ok := d1.Lookup(a); !ok {
		t.Error("Without changed the original")
	}
	if _, err := d0.With(a, 4); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Errorf("override to shard 4 of 4: err = %v", err)
	}
	if got := len(d1.Overrides()); got != 1 {
		t.Errorf("Overrides() has %d entries, want 1", got)
	}
}

// Map.WithOverride isolates a key on a named shard in a new map version.
func TestMapWithOverrideIsolatesATenant(t *testing.T) {
	r, _ := shard.NewRendezvous([]string{"a", "b", "c", "hot"}, shard.RendezvousOptions{})
	m1, err := shard.NewMap(1, []string{"a", "b", "c", "hot"}, r)
	if err != nil {
		t.Fatal(err)
	}
	tenant := shard.KeyString("tenant:acme")
	m2, err := m1.WithOverride(2, tenant, "hot")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Name(tenant) != "hot" || m2.Version() != 2 {
		t.Errorf("m2: %s v%d", m2.Name(tenant), m2.Version())
	}
	other := shard.KeyString("tenant:other")
	m3, err := m2.WithOverride(3, other, "a")
	if err != nil {
		t.Fatal(err)
	}
	if m3.Name(tenant) != "hot" || m3.Name(other) != "a" {
		t.Errorf("m3 lost an override: %s %s", m3.Name(tenant), m3.Name(other))
	}
	if _, err := m1.WithOverride(2, tenant, "nope"); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Errorf("unknown shard: err = %v", err)
	}
	// A directory over a named strategy still checks the names.
	if _, err := shard.NewMap(4, []string{"a", "b", "hot", "c"}, m3.Strategy()); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Errorf("names reordered under a directory: err = %v", err)
	}
}
