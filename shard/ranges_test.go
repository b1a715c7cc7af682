package shard_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

func TestParseRangesVitessNames(t *testing.T) {
	for _, c := range []struct {
		spec   string
		ranges []shard.Range
	}{
		{"-", []shard.Range{{Name: "-"}}},
		{"0", []shard.Range{{Name: "0"}}},
		{"-80,80-", []shard.Range{{Name: "-80", End: 0x80 << 56}, {Name: "80-", Start: 0x80 << 56}}},
		{"80-,-80", []shard.Range{{Name: "-80", End: 0x80 << 56}, {Name: "80-", Start: 0x80 << 56}}},
		{" -40 , 40-80,80-C0,c0-", []shard.Range{
			{Name: "-40", End: 0x40 << 56},
			{Name: "40-80", Start: 0x40 << 56, End: 0x80 << 56},
			{Name: "80-C0", Start: 0x80 << 56, End: 0xc0 << 56},
			{Name: "c0-", Start: 0xc0 << 56},
		}},
		{"-4000,4000-", []shard.Range{{Name: "-4000", End: 0x40 << 56}, {Name: "4000-", Start: 0x40 << 56}}},
		{"-0123456789abcdef,0123456789abcdef-", []shard.Range{
			{Name: "-0123456789abcdef", End: 0x0123456789abcdef},
			{Name: "0123456789abcdef-", Start: 0x0123456789abcdef},
		}},
	} {
		r, err := shard.ParseRanges(c.spec)
		if err != nil {
			t.Errorf("ParseRanges(%q): %v", c.spec, err)
			continue
		}
		got := r.Ranges()
		if len(got) != len(c.ranges) {
			t.Errorf("ParseRanges(%q) = %v, want %v", c.spec, got, c.ranges)
			continue
		}
		for i := range got {
			if got[i] != c.ranges[i] {
				t.Errorf("ParseRanges(%q)[%d] = %+v, want %+v", c.spec, i, got[i], c.ranges[i])
			}
		}
	}
}

func TestParseRangesRejects(t *testing.T) {
	for spec, want := range map[string]string{
		"":              "want start-end",
		"0,80-":         "overlaps",
		"80":            "want start-end",
		"-80":           "gap after",
		"80-":           "gap before",
		"-80,80-c0":     "gap after",
		"-40,80-":       "gap between",
		"-80,40-":       "overlaps",
		"-80,-80,80-":   "duplicate",
		"-8,8-":         "even number",
		"-0x80,0x80-":   "not a hex digit",
		"-80,80-80,80-": "end must be after start",
		"-00,00-":       "an empty end means",
		"00-80,80-":     "write it empty",
		"-,80-":         "overlaps",
		"-80,80-00":     "an empty end means",
		"-112233445566778899,112233445566778899-": "≤ 16",
	} {
		_, err := shard.ParseRanges(spec)
		if !errors.Is(err, shard.ErrInvalidOptions) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRanges(%q) err = %v, want ErrInvalidOptions mentioning %q", spec, err, want)
		}
	}
}

// Each hash goes to the range that contains it, boundaries included.
func TestRangesRouteByContainment(t *testing.T) {
	r, err := shard.ParseRanges("-40,40-80,80-c0,c0-")
	if err != nil {
		t.Fatal(err)
	}
	rs := r.Ranges()
	for _, h := range []uint64{0, 1, 0x40<<56 - 1, 0x40 << 56, 0x80 << 56, 0xc0<<56 - 1, 0xc0 << 56, 1<<64 - 1} {
		i := r.Shard(h)
		if !rs[i].Contains(h) {
			t.Errorf("Shard(%#x) = %d (%s), which does not contain it", h, i, rs[i])
		}
	}
	for i := range keyCount(100_000) {
		h := shard.KeyUint64(uint64(i))
		if !rs[r.Shard(h)].Contains(h) {
			t.Fatalf("Shard(%#x) = %d: not its range", h, r.Shard(h))
		}
	}
	if got := rs[1].String(); got != "40-80" {
		t.Errorf("String() = %q, want 40-80", got)
	}
}

// Ranges written in code are validated like parsed ones.
func TestNewRangesValidatesCoverage(t *testing.T) {
	_, err := shard.NewRanges([]shard.Range{{Name: "a", End: 10}, {Name: "b", Start: 10, End: 20}})
	if !errors.Is(err, shard.ErrInvalidOptions) || !strings.Contains(err.Error(), "gap after") {
		t.Errorf("err = %v, want a gap after b", err)
	}
	if _, err := shard.NewRanges(nil); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Errorf("no ranges: err = %v", err)
	}
	r, err := shard.NewRanges([]shard.Range{{Name: "hi", Start: 1 << 63}, {Name: "lo", End: 1 << 63}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Names(); got[0] != "lo" || got[1] != "hi" {
		t.Errorf("Names() = %q, want start order [lo hi]", got)
	}
}
