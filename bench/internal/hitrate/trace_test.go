package hitrate

import (
	"slices"
	"strings"
	"testing"
)

func TestParseTrace(t *testing.T) {
	in := "# comment\n1\n2\n*\n\n1, extra\nuser:7 GET\n2\n"
	keys, err := ParseTrace(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0, 1, 0, 2, 1}; !slices.Equal(keys, want) {
		t.Fatalf("keys = %v, want %v", keys, want)
	}
	if _, err := ParseTrace(strings.NewReader(strings.Repeat("x", maxLine+1))); err == nil {
		t.Fatal("an over-long line parsed without error")
	}
}

func TestReadShippedTrace(t *testing.T) {
	keys, err := ReadTrace("../../testdata/gli.lirs.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 5000 {
		t.Fatalf("gli trace has %d requests, want ~6000", len(keys))
	}
}

func FuzzParseTrace(f *testing.F) {
	f.Add("1\n2\n1\n")
	f.Add("*\n# x\n a , b\n\n")
	f.Add("\x00\xff,\n,,,\n")
	f.Fuzz(func(t *testing.T, in string) {
		keys, err := ParseTrace(strings.NewReader(in))
		if err != nil {
			return
		}
		seen := uint64(0)
		for _, k := range keys {
			if k > seen {
				t.Fatalf("id %d before id %d was seen: ids must be dense in first-appearance order", k, seen)
			}
			if k == seen {
				seen++
			}
		}
	})
}
