package main

import (
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	keys, err := parseKeys(strings.NewReader("# ids\nuser:1,GET\n\n  user:2 x\nuser:1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || string(keys[0]) != "user:1" || string(keys[1]) != "user:2" {
		t.Errorf("keys = %q", keys)
	}
	if _, err := parseKeys(strings.NewReader("# nothing\n")); err == nil {
		t.Error("an empty file parsed")
	}
}

// Every strategy builds for every change at small shard counts, and the
// simulator's figures come out for a tiny stream.
func TestEveryStrategyBuilds(t *testing.T) {
	st, err := generate("uniform", 2000, 1.1)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3, 5} {
		for _, s := range strategies {
			for _, c := range []change{base, add, remove} {
				if _, err := s.build(n, c); err != nil {
					t.Errorf("%s, %d shards, change %d: %v", s.name, n, c, err)
				}
			}
			if _, err := measure(s, st.keys, st.keys, n); err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
		}
	}
}
