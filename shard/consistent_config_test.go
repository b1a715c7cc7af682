package shard_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/buraksezer/consistent"
	"github.com/ladder-go/ladder/shard"
)

// libraryPanics reports whether consistent.New panics for the config.
func libraryPanics(n int, cfg consistent.Config) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	ms := make([]consistent.Member, n)
	for i, s := range dbNames(n) {
		ms[i] = member(s)
	}
	cfg.Hasher = shard.Hasher{}
	consistent.New(ms, cfg)
	return ""
}

// buraksezer/consistent v0.10.0 panics for these configurations; NewConsistent
// rejects each up front with an ErrInvalidOptions naming the field.
func TestConsistentRejectsWhatTheLibraryPanicsOn(t *testing.T) {
	for _, c := range []struct {
		name  string
		n     int
		cfg   consistent.Config
		field string
	}{
		{"ReplicationFactor 1", 1, consistent.Config{PartitionCount: 271, ReplicationFactor: 1, Load: 1.25}, "ReplicationFactor 1"},
		{"fewer partitions than members", 8, consistent.Config{PartitionCount: 7, ReplicationFactor: 20, Load: 1.25}, "PartitionCount 7"},
		{"Load 1 with two members", 2, consistent.Config{PartitionCount: 271, ReplicationFactor: 20, Load: 1}, "Load 1"},
		{"Load 1 with five members", 5, consistent.Config{PartitionCount: 271, ReplicationFactor: 20, Load: 1}, "Load 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if msg := libraryPanics(c.n, c.cfg); !strings.Contains(msg, "not enough room") {
				t.Errorf("the library did not panic as documented (got %q): revisit the check", msg)
			}
			_, err := shard.NewConsistent(dbNames(c.n), shard.ConsistentOptions{
				PartitionCount: c.cfg.PartitionCount, ReplicationFactor: c.cfg.ReplicationFactor, Load: c.cfg.Load,
			})
			if !errors.Is(err, shard.ErrInvalidOptions) || !strings.Contains(err.Error(), c.field) {
				t.Errorf("err = %v, want ErrInvalidOptions naming %q", err, c.field)
			}
		})
	}
}

// Configurations the library accepts build, including its defaults and a
// single shard at Load 1.
func TestConsistentAcceptsWorkingConfigurations(t *testing.T) {
	for _, c := range []struct {
		n    int
		opts shard.ConsistentOptions
	}{
		{1, shard.ConsistentOptions{}},
		{1, shard.ConsistentOptions{Load: 1}},
		{3, shard.ConsistentOptions{PartitionCount: 3, Load: 1.01}},
		{64, shard.ConsistentOptions{PartitionCount: 7919, ReplicationFactor: 50, Load: 1.02}},
	} {
		if _, err := shard.NewConsistent(dbNames(c.n), c.opts); err != nil {
			t.Errorf("%d shards, %+v: %v", c.n, c.opts, err)
		}
	}
}
