package pgreplica_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

func TestLSNRoundTrip(t *testing.T) {
	for _, c := range []struct {
		text string
		pos  replica.Position
	}{
		{"0/0", 0},
		{"0/1", 1},
		{"0/3000000", 0x3000000},
		{"16/B374D848", 0x16_B374D848},
		{"1/0", 1 << 32},
		{"FFFFFFFF/FFFFFFFF", 1<<64 - 1},
	} {
		got, err := pgreplica.ParseLSN(c.text)
		if err != nil || got != c.pos {
			t.Errorf("ParseLSN(%q) = %#x, %v; want %#x", c.text, got, err, c.pos)
		}
		if s := pgreplica.FormatLSN(c.pos); s != c.text {
			t.Errorf("FormatLSN(%#x) = %q; want %q", c.pos, s, c.text)
		}
	}
}

func TestParseLSNAcceptsWhatPostgreSQLAccepts(t *testing.T) {
	for _, s := range []string{"16/b374d848", "00000016/0000000A", "0/00000000", "a/B"} {
		if _, err := pgreplica.ParseLSN(s); err != nil {
			t.Errorf("ParseLSN(%q): %v", s, err)
		}
	}
}

func TestParseLSNRejectsMalformed(t *testing.T) {
	for _, s := range []string{
		"", "/", "0/", "/0", "0", "00", "0//0", "0/0/0", " 0/0", "0/0 ", "0 /0", "-1/0", "+1/0",
		"0x1/0", "G/0", "0/G", "123456789/0", "0/123456789", "1/2\x00", "１/2",
	} {
		p, err := pgreplica.ParseLSN(s)
		if !errors.Is(err, pgreplica.ErrInvalidLSN) {
			t.Errorf("ParseLSN(%q) = %v, %v; want ErrInvalidLSN", s, p, err)
			continue
		}
		if strings.Count(err.Error(), "pgreplica:") != 1 {
			t.Errorf("error %q repeats or lacks the package prefix", err)
		}
	}
}

// FuzzParseLSN: ParseLSN never panics; what it accepts formats back to the
// same position, and the canonical text of a position parses back to it.
func FuzzParseLSN(f *testing.F) {
	for _, s := range []string{"0/0", "16/B374D848", "ffffffff/ffffffff", "0/", "1/2/3", "123456789/0", " 1/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := pgreplica.ParseLSN(s)
		if err != nil {
			if p != 0 {
				t.Fatalf("ParseLSN(%q) failed but returned %v", s, p)
			}
			return
		}
		// What it accepts is two halves of 1–8 hex digits, read as numbers.
		hi, lo, _ := strings.Cut(s, "/")
		h, errH := strconv.ParseUint(hi, 16, 32)
		l, errL := strconv.ParseUint(lo, 16, 32)
		if len(hi) > 8 || len(lo) > 8 || strings.ContainsAny(s, "+-_xX") || errH != nil || errL != nil ||
			p != replica.Position(h<<32|l) {
			t.Fatalf("ParseLSN(%q) = %#x: not two halves of 1–8 hex digits (%v, %v)", s, p, errH, errL)
		}
		text := pgreplica.FormatLSN(p)
		back, err := pgreplica.ParseLSN(text)
		if err != nil || back != p {
			t.Fatalf("ParseLSN(%q) = %v, whose text %q parses to %v, %v", s, p, text, back, err)
		}
	})
}

func FuzzFormatLSN(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(1<<64 - 1))
	f.Add(uint64(0x16_B374D848))
	f.Fuzz(func(t *testing.T, v uint64) {
		text := pgreplica.FormatLSN(replica.Position(v))
		if text != strings.ToUpper(text) {
			t.Fatalf("FormatLSN(%#x) = %q; PostgreSQL writes upper case", v, text)
		}
		p, err := pgreplica.ParseLSN(text)
		if err != nil || p != replica.Position(v) {
			t.Fatalf("ParseLSN(FormatLSN(%#x) = %q) = %v, %v", v, text, p, err)
		}
	})
}
