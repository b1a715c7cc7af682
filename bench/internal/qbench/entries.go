package qbench

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// Config is what the systems of one run share.
type Config struct {
	RedisAddr string // one redis-server for ladder's redisqueue and asynq
	PGDSN     string // one PostgreSQL for ladder's pgqueue and river
	PGConns   int32  // pgxpool size for both; 0: pgxpool's default
}

// Entry is one system to measure.
type Entry struct {
	Name    string // sub-benchmark name: ladder-<backend> or <peer>-<backend>
	Backend string // "memory", "redis" or "pg"
	Ladder  bool
	// Slow: the system is known to be far slower (river on its defaults);
	// drivers may give it fewer jobs.
	Slow bool
	// NotInGoBench, when set, says why BenchmarkQueue leaves the system to
	// cmd/queuebench (which runs a fixed, large number of jobs).
	NotInGoBench string
	New          func() System // a fresh system with its own queue, schema or key prefix
}

// MemoryBound is the capacity of both in-memory systems: the channel's
// buffer and ladder's MemoryOptions.MaxJobs (with FullBlock), so that the
// producer of a throughput run blocks on the same backlog in both.
const MemoryBound = 10_000

var seq atomic.Int64

// unique names a run's queue, key prefix or schema.
func unique(what string) string {
	return fmt.Sprintf("qbench_%s_%d_%d", what, os.Getpid(), seq.Add(1))
}

// Entries lists every system, ladder's and its peers', backend by backend.
func Entries(c Config) []Entry {
	es := []Entry{
		{Name: "chan-handoff-memory", Backend: "memory", New: func() System { return NewChan(MemoryBound) }},
		{Name: "asynq-redis", Backend: "redis", New: func() System { return &Asynq{Addr: c.RedisAddr, Queue: unique("asynq")} }, NotInGoBench: "asynq on its defaults looks at an idle queue every 0.5–1.5 s (TaskCheckInterval), so the " +
			"first run of b.N = 1 job takes about a second and ends the b.N ramp: cmd/queuebench measures it with 200,000 jobs; asynq-tuned-redis runs here"},
		{Name: "asynq-tuned-redis", Backend: "redis", New: func() System {
			return &Asynq{Addr: c.RedisAddr, Queue: unique("asynq"), Check: 2 * time.Millisecond}
		}},
		{Name: "river-tuned-pg", Backend: "pg", New: func() System {
			return &River{DSN: c.PGDSN, Schema: unique("river"), MaxConns: c.PGConns, FetchCooldown: 2 * time.Millisecond}
		}},
		{Name: "river-default-pg", Backend: "pg", Slow: true, New: func() System {
			return &River{DSN: c.PGDSN, Schema: unique("river"), MaxConns: c.PGConns}
		}},
	}
	return append(ladderEntries(c), es...)
}
