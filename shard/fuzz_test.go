package shard_test

import (
	"errors"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

// Whatever a user types, ParseRanges either fails with ErrInvalidOptions or
// returns ranges that cover the space exactly, and every hash routes to a
// range containing it.
func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"-", "-80,80-", "-40,40-80,80-c0,c0-", "-80,40-", "-4000,4000-8000,8000-", "", ",", "-8,8-", "--", "-ff,ff-", "-0123456789abcdef,0123456789abcdef-"} {
		f.Add(s, uint64(0x7f00000000000000))
	}
	f.Fuzz(func(t *testing.T, spec string, h uint64) {
		r, err := shard.ParseRanges(spec)
		if err != nil {
			if !errors.Is(err, shard.ErrInvalidOptions) {
				t.Fatalf("ParseRanges(%q): %v is not ErrInvalidOptions", spec, err)
			}
			return
		}
		rs := r.Ranges()
		if rs[0].Start != 0 || rs[len(rs)-1].End != 0 {
			t.Fatalf("ParseRanges(%q) = %v: does not cover the ends", spec, rs)
		}
		for i := 1; i < len(rs); i++ {
			if rs[i].Start != rs[i-1].End {
				t.Fatalf("ParseRanges(%q) = %v: gap or overlap at %d", spec, rs, i)
			}
		}
		if i := r.Shard(h); i < 0 || i >= len(rs) || !rs[i].Contains(h) {
			t.Fatalf("ParseRanges(%q).Shard(%#x) = %d: not the containing range", spec, h, i)
		}
		if _, err := shard.NewMap(1, r.Names(), r); err != nil {
			t.Fatalf("NewMap over ParseRanges(%q): %v", spec, err)
		}
	})
}

// Any key bytes hash without panicking, to the same value as a string.
func FuzzKeyBytes(f *testing.F) {
	for _, s := range []string{"", "a", "abcd", "abcdefgh", "0123456789abcdef0123456789abcdef!"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if shard.KeyBytes(b) != shard.KeyString(string(b)) {
			t.Fatalf("KeyBytes(%q) != KeyString", b)
		}
	})
}
