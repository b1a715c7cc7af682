package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseSizes(t *testing.T) {
	if got, err := parseSizes("10, 20"); err != nil || !slices.Equal(got, []int{10, 20}) {
		t.Fatalf("parseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "-1", "a", "10,,20"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}

// A user's own trace replays through every cache, one row each.
func TestRunUserTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.txt")
	var sb strings.Builder
	for i := range 2000 {
		sb.WriteString([]string{"a", "b", "c"}[i%3])
		sb.WriteString("\nuser:")
		sb.WriteString(string(rune('0' + i%10)))
		sb.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(&out, path, "4,8", "", "../../testdata", 1, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ladder-tinylfu |", "| otter |", "| ristretto |", "| 4 | 8 |", "ladder's best ÷ best of otter, ristretto"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunErrors(t *testing.T) {
	var out bytes.Buffer
	if err := run(&out, "", "", "nosuch", "../../testdata", 1, false); err == nil || !strings.Contains(err.Error(), "gli") {
		t.Errorf("unknown stream: err = %v, want one listing the streams", err)
	}
	if err := run(&out, "", "", "", "../../testdata", 0, false); err == nil {
		t.Error("-runs 0 accepted")
	}
	if err := run(&out, filepath.Join(t.TempDir(), "missing"), "", "", "../../testdata", 1, false); err == nil {
		t.Error("a missing trace file replayed")
	}
}
