package assets

import (
	"strings"
	"testing"
)

var brGzip = []variant{{coding: "br"}, {coding: "gzip"}}

// FuzzAcceptEncoding: never a panic, an index in range, and a coding the
// field excludes by name (q=0, the only element naming it) is never chosen.
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip, deflate, br", "br;q=0, gzip", "*;q=0", "identity;q=0", "gzip;q=0.", "br;q=1.0001",
		"BR;Q=0.5", ";;;,,,", "gzip;q=", "br;q=0.000, *", "\t br \t; q=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		i := pickVariant([]string{s}, brGzip)
		if i < -1 || i >= len(brGzip) {
			t.Fatalf("%q: index %d", s, i)
		}
		if i < 0 {
			return
		}
		name := brGzip[i].coding
		if strings.Count(strings.ToLower(s), name) == 1 {
			for _, e := range strings.Split(s, ",") {
				c, q, ok := parseCoding(trimOWS(e))
				if ok && strings.EqualFold(c, name) && q == 0 {
					t.Fatalf("%q: chose %s, excluded by q=0", s, name)
				}
			}
		}
	})
}

// FuzzIfNoneMatch: never a panic, and a well-formed list holding the tag
// always matches.
func FuzzIfNoneMatch(f *testing.F) {
	for _, s := range []string{`"a"`, `W/"a", "b"`, `*`, `"a`, `W/`, `"a""b"`, `,,"x",`, "\"\x7f\""} {
		f.Add(s)
	}
	const etag = `"0123456789abcdef"`
	f.Fuzz(func(t *testing.T, s string) {
		noneMatch([]string{s}, etag)
		if !noneMatch([]string{s + ", " + etag}, etag) && wellFormed(s) {
			t.Fatalf("%q, %s: no match", s, etag)
		}
	})
}

// wellFormed reports whether s is a comma-separated list of entity-tags.
func wellFormed(s string) bool {
	for {
		s = trimOWSComma(s)
		if s == "" {
			return true
		}
		_, rest, ok := scanETag(s)
		if !ok {
			return false
		}
		s = rest
	}
}

func TestParseQ(t *testing.T) {
	cases := map[string]int{"0": 0, "1": 1000, "0.5": 500, "0.25": 250, "0.125": 125, "1.0": 1000, "1.000": 1000, "0.": 0, "1.": 1000}
	for s, want := range cases {
		if got, ok := parseQ(s); !ok || got != want {
			t.Errorf("parseQ(%q) = %d, %v; want %d", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "2", "1.5", "1.001", "0.1234", "-1", "0,5", ".5", "01"} {
		if _, ok := parseQ(s); ok {
			t.Errorf("parseQ(%q) accepted", s)
		}
	}
}
