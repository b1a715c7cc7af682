package hitrate

import (
	"slices"
	"testing"
)

// The synthetic streams are generated, not stored: the same build must
// give the same requests every time, or figures are not comparable.
func TestStreamsDeterministic(t *testing.T) {
	a, err := Streams("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Streams("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for i := range a {
		if names[a[i].Name] {
			t.Errorf("stream name %q twice", a[i].Name)
		}
		names[a[i].Name] = true
		if !slices.Equal(a[i].Keys, b[i].Keys) {
			t.Errorf("%s: two generations differ", a[i].Name)
		}
		if len(a[i].Keys) == 0 || len(a[i].Sizes) == 0 || a[i].About == "" {
			t.Errorf("%s: empty stream, sizes or description", a[i].Name)
		}
	}
}

func TestShapes(t *testing.T) {
	// A loop of n keys larger than an LRU gives it no hit at all.
	if got := distinct(Loop(50, 3)); got != 50 {
		t.Errorf("Loop: %d distinct keys, want 50", got)
	}
	// Every scan key is new.
	s := ScanHot(10, 100, 40, 3, 1)
	if len(s) != 3*140 || distinct(s) > 10+3*40 {
		t.Errorf("ScanHot: %d requests over %d keys", len(s), distinct(s))
	}
	// A heavier skew concentrates requests on fewer keys.
	if distinct(Zipf(1.2, 10_000, 20_000, 1)) >= distinct(Zipf(0.7, 10_000, 20_000, 1)) {
		t.Error("Zipf s=1.2 touches as many keys as s=0.7")
	}
	for _, k := range OLTP(1000, 5000, 1) {
		if k >= 1000 {
			t.Fatalf("OLTP row %d outside 1000 rows", k)
		}
	}
}

func distinct(keys []uint64) int {
	m := map[uint64]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return len(m)
}

// Median is the middle of the runs, whatever order they came in.
func TestMedian(t *testing.T) {
	hits := []int{3, 1, 2}
	run := 0
	c := Cache{Name: "fake", New: func(int) (Policy, error) {
		h := hits[run]
		run++
		n := 0
		return Policy{Get: func(uint64) bool { n++; return n <= h }, Set: func(uint64) {}, Close: func() {}}, nil
	}}
	med, lo, hi, err := Median(c, 1, make([]uint64, 10), 3)
	if err != nil || med != 20 || lo != 10 || hi != 30 {
		t.Fatalf("Median = %v, %v, %v, %v; want 20, 10, 30", med, lo, hi, err)
	}
}
