package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ladder-go/ladder/bench/internal/qbench"
)

// BenchmarkQueue runs b.N no-op jobs end to end through each queue (enqueued
// in batches of 100 by one producer while 100 handler goroutines run; timed
// from the first enqueue until the last acknowledgement is observed): ns/op
// is the time per job, jobs/s its inverse, cpu-ns/job the CPU time this
// process spent per job on all cores (steadier than time on a shared
// machine; the servers' CPU is not in it), srv-cpu-ns/job redis-server's CPU
// time per job (from INFO cpu). Then, untimed, up to 200 jobs one
// at a time at 1,000 jobs/s give enqueue→start p50-µs and p99-µs (small
// samples: cmd/queuebench measures more). Each peer shares the server of the
// ladder backend its name ends with: ladder-memory ↔ chan-handoff-memory (a
// buffered channel feeding the goroutines, the physical limit; both hold at
// most qbench.MemoryBound jobs, the producer blocking when full); ladder-redis
// ↔ asynq-tuned-redis (TaskCheckInterval 2 ms; asynq-redis, on its
// defaults, is measured by cmd/queuebench only); ladder-pg ↔
// river-tuned-pg (FetchCooldown 2 ms) and river-default-pg.
func BenchmarkQueue(b *testing.B) {
	cfg := qbench.Config{
		RedisAddr: os.Getenv("LADDER_REDIS_ADDR"),
		PGDSN:     os.Getenv("LADDER_PG_PRIMARY"),
		PGConns:   16,
	}
	const (
		workers = 100
		batch   = 100
		rate    = 1000
		maxLat  = 200
	)
	for _, e := range qbench.Entries(cfg) {
		b.Run(e.Name, func(b *testing.B) {
			switch {
			case e.NotInGoBench != "":
				b.Skip(e.NotInGoBench)
			case e.Backend == "redis" && cfg.RedisAddr == "":
				b.Skip("LADDER_REDIS_ADDR not set: start redis-server (scripts/bench does)")
			case e.Backend == "pg" && cfg.PGDSN == "":
				b.Skip("LADDER_PG_PRIMARY not set: start PostgreSQL (scripts/bench does)")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			nLat := min(b.N, maxLat)
			rec := qbench.NewLatencyRecorder(nLat)
			s := e.New()
			defer func() {
				if err := s.Close(); err != nil {
					b.Error(err)
				}
			}()
			// Stamp 0 marks a throughput job: its handler does nothing.
			if err := s.Start(ctx, workers, func(stamp int64) {
				if stamp != 0 {
					rec.Run(stamp)
				}
			}); err != nil {
				b.Fatal(err)
			}
			if err := qbench.Warm(ctx, s, batch); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			t, err := qbench.MeasureThroughput(ctx, s, b.N, batch)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			lat, err := qbench.MeasureLatency(ctx, s, rec, nLat, rate)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(t.PerSec(), "jobs/s")
			b.ReportMetric(float64(t.CPUPerJob().Nanoseconds()), "cpu-ns/job")
			if t.ServerCPU > 0 {
				b.ReportMetric(float64(t.ServerCPUPerJob().Nanoseconds()), "srv-cpu-ns/job")
			}
			b.ReportMetric(float64(lat.P50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat.P99.Microseconds()), "p99-µs")
		})
	}
}
