package shard_test

import (
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/ladder-go/ladder/shard"
)

var prefix = regexp.MustCompile(`\bshard: `)

// assertPrefixOnce fails unless err starts with "shard: " and never repeats it.
func assertPrefixOnce(t *testing.T, what string, err error) {
	t.Helper()
	msg := err.Error()
	if n := len(prefix.FindAllStringIndex(msg, -1)); n != 1 || !strings.HasPrefix(msg, "shard: ") {
		t.Errorf("%s: %q: want the prefix \"shard: \" once, at the start (found %d)", what, msg, n)
	}
}

// Every bad configuration is an ErrInvalidOptions that says
// "shard: invalid options:" once and names the field and value.
func TestBadConfigurationErrors(t *testing.T) {
	jump4, _ := shard.NewJump(4)
	cases := []struct {
		name string
		want string
		err  func() error
	}{
		{"modulo 0", "Modulo n 0", func() error { _, err := shard.NewModulo(0); return err }},
		{"jump 0", "Jump n 0", func() error { _, err := shard.NewJump(0); return err }},
		{"jump -1", "Jump n -1", func() error { _, err := shard.NewJump(-1); return err }},
		{"rendezvous none", "Rendezvous shards", func() error { _, err := shard.NewRendezvous(nil, shard.RendezvousOptions{}); return err }},
		{"rendezvous duplicate", `shards[2] "a": duplicate`, func() error {
			_, err := shard.NewRendezvous([]string{"a", "b", "a"}, shard.RendezvousOptions{})
			return err
		}},
		{"rendezvous empty name", "shards[1]: empty", func() error {
			_, err := shard.NewRendezvous([]string{"a", ""}, shard.RendezvousOptions{})
			return err
		}},
		{"rendezvous weight 0", "Weights[1] 0", func() error {
			_, err := shard.NewRendezvous([]string{"a", "b"}, shard.RendezvousOptions{Weights: []float64{1, 0}})
			return err
		}},
		{"rendezvous weight NaN", "Weights[0] NaN", func() error {
			_, err := shard.NewRendezvous([]string{"a", "b"}, shard.RendezvousOptions{Weights: []float64{math.NaN(), 1}})
			return err
		}},
		{"rendezvous weight count", "Weights: 1 given for 2", func() error {
			_, err := shard.NewRendezvous([]string{"a", "b"}, shard.RendezvousOptions{Weights: []float64{1}})
			return err
		}},
		{"maglev weight -1", "Weights[0] -1", func() error {
			_, err := shard.NewMaglev([]string{"a"}, shard.MaglevOptions{Weights: []float64{-1}})
			return err
		}},
		{"maglev table small", "TableSize 101", func() error {
			_, err := shard.NewMaglev([]string{"a", "b"}, shard.MaglevOptions{TableSize: 101})
			return err
		}},
		{"maglev table not prime", "TableSize 1000: must be prime", func() error {
			_, err := shard.NewMaglev([]string{"a"}, shard.MaglevOptions{TableSize: 1000})
			return err
		}},
		{"maglev table negative", "TableSize -1", func() error {
			_, err := shard.NewMaglev([]string{"a"}, shard.MaglevOptions{TableSize: -1})
			return err
		}},
		{"consistent duplicate", "Consistent shards[1]", func() error {
			_, err := shard.NewConsistent([]string{"a", "a"}, shard.ConsistentOptions{})
			return err
		}},
		{"consistent negative partitions", "PartitionCount -1", func() error {
			_, err := shard.NewConsistent([]string{"a"}, shard.ConsistentOptions{PartitionCount: -1})
			return err
		}},
		{"consistent load 0.5", "Load 0.5", func() error {
			_, err := shard.NewConsistent([]string{"a"}, shard.ConsistentOptions{Load: 0.5})
			return err
		}},
		{"consistent load NaN", "Load NaN", func() error {
			_, err := shard.NewConsistent([]string{"a"}, shard.ConsistentOptions{Load: math.NaN()})
			return err
		}},
		{"map nil strategy", "strategy: nil", func() error { _, err := shard.NewMap(1, []string{"a"}, nil); return err }},
		{"map count mismatch", "strategy has 4 shards, names 3", func() error {
			_, err := shard.NewMap(1, []string{"a", "b", "c"}, jump4)
			return err
		}},
		{"map duplicate names", `shards[3] "a": duplicate`, func() error {
			_, err := shard.NewMap(1, []string{"a", "b", "c", "a"}, jump4)
			return err
		}},
		{"map names differ from strategy", "strategy was built over", func() error {
			r, _ := shard.NewRendezvous([]string{"a", "b"}, shard.RendezvousOptions{})
			_, err := shard.NewMap(1, []string{"b", "a"}, r)
			return err
		}},
		{"directory unknown shard", "shard 4: no such shard", func() error {
			_, err := shard.NewDirectory(jump4, map[uint64]int{7: 4}, shard.DirectoryOptions{})
			return err
		}},
		{"directory nil fallback", "fallback: nil", func() error {
			_, err := shard.NewDirectory(nil, nil, shard.DirectoryOptions{})
			return err
		}},
		{"directory MaxEntries -1", "MaxEntries -1", func() error {
			_, err := shard.NewDirectory(jump4, nil, shard.DirectoryOptions{MaxEntries: -1})
			return err
		}},
		{"directory too many", "more than MaxEntries 1", func() error {
			_, err := shard.NewDirectory(jump4, map[uint64]int{1: 0, 2: 1}, shard.DirectoryOptions{MaxEntries: 1})
			return err
		}},
		{"ranges gap", "gap between", func() error { _, err := shard.ParseRanges("-40,80-"); return err }},
		{"ranges overlap", "overlaps", func() error { _, err := shard.ParseRanges("-80,40-"); return err }},
		{"plan nil", "Plan old: nil", func() error { _, err := shard.Plan(nil, nil, shard.PlanOptions{}); return err }},
	}
	for _, c := range cases {
		err := c.err()
		if !errors.Is(err, shard.ErrInvalidOptions) {
			t.Errorf("%s: err = %v, want ErrInvalidOptions", c.name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "shard: invalid options: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %q: want \"shard: invalid options: …%s…\"", c.name, err, c.want)
		}
		assertPrefixOnce(t, c.name, err)
	}
}
