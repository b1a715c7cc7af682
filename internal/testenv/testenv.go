// Package testenv gives tests the real servers that ladder's users run:
// Redis, a Redis Cluster, a PostgreSQL primary and its streaming replica, started by
// scripts/test on loopback and found through environment variables.
//
// Without the variables the helpers skip the test, saying how to run it for
// real; with LADDER_INTEGRATION=required (set by scripts/test and CI) they fail
// it instead, so an integration test can never pass by being skipped.
//
// Each helper hands out an isolated slice of the shared server (a key prefix,
// a fresh database) and cleans it up, so tests can call t.Parallel. Fault
// tests start private servers of their own instead (StartRedis,
// StartSentinel, StartPGPair, PgBouncer), which they may crash.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// Environment variables read by this package and exported by scripts/test.
const (
	EnvRedis       = "LADDER_REDIS_ADDR"  // host:port of a redis-server
	EnvPGPrimary   = "LADDER_PG_PRIMARY"  // DSN (URL form) of the PostgreSQL primary
	EnvPGReplica   = "LADDER_PG_REPLICA"  // DSN (URL form) of its streaming replica
	EnvIntegration = "LADDER_INTEGRATION" // "required": missing servers fail tests instead of skipping them
	howToRun       = "run scripts/test, which starts redis-server, a Redis Cluster and PostgreSQL (primary + replica) on loopback and sets " +
		EnvRedis + ", " + EnvRedisCluster + ", " + EnvPGPrimary + " and " + EnvPGReplica
)

// Required reports whether integration tests must run (LADDER_INTEGRATION=required).
func Required() bool { return strings.EqualFold(os.Getenv(EnvIntegration), "required") }

// unavailable skips t, or fails it when integration tests are required.
func unavailable(t testing.TB, what string) {
	t.Helper()
	if Required() {
		t.Fatalf("testenv: %s, but %s=required: integration tests must not skip", what, EnvIntegration)
	}
	t.Skipf("testenv: %s; skipping integration test (%s)", what, howToRun)
}

// lookup returns the variable's value or marks the test unavailable.
func lookup(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		unavailable(t, name+" is not set")
	}
	return v
}

// uniqueName returns prefix followed by 12 random hex digits.
func uniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Race reports whether the test binary was built with the race detector
// (which makes goroutine-heavy tests tens of times slower): tests scale
// their sizes down under it.
const Race = raceEnabled
