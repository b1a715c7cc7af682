//go:build race

package shard_test

// raceOn shrinks the property tests' key counts under the race detector,
// which slows hashing tenfold.
const raceOn = true
