//go:build !race

package shard_test

const raceOn = false
