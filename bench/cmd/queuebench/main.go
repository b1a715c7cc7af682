// Command queuebench measures job queues end to end on loopback: ladder's
// in-memory backend against a Go channel hand-off (the physical limit),
// ladder's redisqueue against hibiken/asynq on one private redis-server, and
// ladder's pgqueue against riverqueue/river (FetchCooldown 2 ms and default)
// on one PostgreSQL (LADDER_PG_PRIMARY, as scripts/bench sets it). Every
// system runs a no-op handler on the same number of handler goroutines.
//
// Two figures per system: jobs/s (N jobs enqueued in batches by one producer
// while the workers run, timed from the first enqueue until the last
// acknowledgement is observed in the store) and enqueue→start latency p50
// and p99 (jobs enqueued one at a time at a steady rate, each stamped with
// its enqueue time). It prints the markdown tables of bench/RESULTS.md.
//
//	cd bench && go run ./cmd/queuebench                 # every backend
//	cd bench && go run ./cmd/queuebench -backend redis -jobs 50000 -workers 200
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ladder-go/ladder/bench/internal/qbench"
)

var (
	backends = flag.String("backend", "memory,redis,pg", "comma-separated backends to measure: memory, redis, pg")
	jobs     = flag.Int("jobs", 0, "jobs per throughput run; 0: 2,000,000 in memory, 200,000 on Redis, 100,000 on PostgreSQL (a tenth for river on its defaults)")
	workers  = flag.Int("workers", 100, "handler goroutines of every system")
	batch    = flag.Int("batch", 100, "jobs per enqueue batch in the throughput run")
	rate     = flag.Float64("rate", 1000, "jobs/s offered in the latency run")
	latJobs  = flag.Int("latjobs", 3000, "jobs in the latency run")
	redisAdr = flag.String("redis", "", "redis-server address; empty: start a private redis-server")
	pgConns  = flag.Int("pgconns", 16, "pgxpool connections of every PostgreSQL system")
	timeout  = flag.Duration("timeout", 5*time.Minute, "bound on each system's run")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "queuebench:", err)
		os.Exit(1)
	}
}

type result struct {
	e    qbench.Entry
	t    qbench.Throughput
	lat  qbench.Latency
	err  error
	skip string
}

func run() error {
	want := map[string]bool{}
	for _, b := range strings.Split(*backends, ",") {
		want[strings.TrimSpace(b)] = true
	}
	cfg := qbench.Config{RedisAddr: *redisAdr, PGDSN: os.Getenv("LADDER_PG_PRIMARY"), PGConns: int32(*pgConns)}
	redisNote := "the redis-server at " + *redisAdr
	if want["redis"] && cfg.RedisAddr == "" {
		addr, stop, err := qbench.StartRedis()
		if err != nil {
			return err
		}
		defer stop()
		cfg.RedisAddr = addr
		redisNote = "a private redis-server (no persistence)"
	}
	var results []result
	for _, e := range qbench.Entries(cfg) {
		if !want[e.Backend] {
			continue
		}
		r := result{e: e}
		if e.Backend == "pg" && cfg.PGDSN == "" {
			r.skip = "LADDER_PG_PRIMARY not set"
		} else {
			fmt.Fprintf(os.Stderr, "queuebench: %s…\n", e.Name)
			r.t, r.lat, r.err = measure(e)
			if r.err != nil {
				fmt.Fprintf(os.Stderr, "queuebench: %s: %v\n", e.Name, r.err)
			}
		}
		results = append(results, r)
	}
	fmt.Printf("%d handler goroutines per system, no-op handler; in memory both queues hold at most %d jobs (channel buffer; MaxJobs with FullBlock); throughput: jobs enqueued in batches of %d by one producer while the workers run, "+
		"first enqueue → last acknowledgement; latency: %d jobs enqueued one at a time at %.0f jobs/s, enqueue → handler start. "+
		"Redis: %s shared by ladder and asynq; PostgreSQL: the server of scripts/bench, a pgxpool of %d connections per system.\n\n",
		*workers, qbench.MemoryBound, *batch, *latJobs, *rate, redisNote, *pgConns)
	headline(results)
	details(results)
	return nil
}

func jobsFor(e qbench.Entry) int {
	n := *jobs
	if n <= 0 {
		n = map[string]int{"memory": 2_000_000, "redis": 200_000, "pg": 100_000}[e.Backend]
	}
	if e.Slow {
		n = max(1, n/10)
	}
	return n
}

// measure runs one system: a warm-up, the throughput run, the latency run.
func measure(e qbench.Entry) (qbench.Throughput, qbench.Latency, error) {
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	rec := qbench.NewLatencyRecorder(*latJobs)
	s := e.New()
	t, lat, err := func() (qbench.Throughput, qbench.Latency, error) {
		if err := s.Start(ctx, *workers, func(stamp int64) {
			if stamp != 0 {
				rec.Run(stamp)
			}
		}); err != nil {
			return qbench.Throughput{}, qbench.Latency{}, fmt.Errorf("start: %w", err)
		}
		if err := qbench.Warm(ctx, s, *batch); err != nil {
			return qbench.Throughput{}, qbench.Latency{}, fmt.Errorf("warm-up: %w", err)
		}
		t, err := qbench.MeasureThroughput(ctx, s, jobsFor(e), *batch)
		if err != nil {
			return t, qbench.Latency{}, err
		}
		lat, err := qbench.MeasureLatency(ctx, s, rec, *latJobs, *rate)
		return t, lat, err
	}()
	if cerr := s.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	return t, lat, err
}

// headline prints the bars: ladder against each peer on its backend, the
// bar judged on jobs/s against the best peer (in memory: the absolute figure).
func headline(rs []result) {
	fmt.Println("| figure | ladder | peer | ladder ÷ peer | bar | command |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, b := range []struct {
		backend, title, bar string
		met                 func(ladder, best float64) bool
	}{
		{"memory", "in-memory", "≥ 2M jobs/s", func(l, _ float64) bool { return l >= 2e6 }},
		{"redis", "Redis", "≥ 5× asynq", func(l, p float64) bool { return l >= 5*p }},
		{"pg", "PostgreSQL", "≥ 1.2× river (FetchCooldown 2 ms)", func(l, p float64) bool { return l >= 1.2*p }},
	} {
		var ladder, best *result
		var peers []*result
		for i := range rs {
			r := &rs[i]
			if r.e.Backend != b.backend {
				continue
			}
			ok, _ := done(r)
			switch {
			case r.e.Ladder:
				ladder = r
			default:
				peers = append(peers, r)
				if ok && (best == nil || r.t.PerSec() > best.t.PerSec()) {
					best = r
				}
			}
		}
		if len(peers) == 0 && ladder == nil {
			continue
		}
		cmd := fmt.Sprintf("`cd bench && go run ./cmd/queuebench -backend %s -workers %d -batch %d`", b.backend, *workers, *batch)
		ladderOK := false
		if ladder != nil {
			ladderOK, _ = done(ladder)
		}
		for _, p := range peers {
			pOK, _ := done(p)
			for i, f := range []struct {
				name string
				val  func(*result) float64
				fmtv func(float64) string
			}{
				{"jobs/s", func(r *result) float64 { return r.t.PerSec() }, func(v float64) string { return fmt.Sprintf("%.0f", v) }},
				{"CPU per job in this process", func(r *result) float64 { return float64(r.t.CPUPerJob()) }, dur},
				{"redis-server CPU per job", func(r *result) float64 { return float64(r.t.ServerCPUPerJob()) }, dur},
				{"enqueue→start p50", func(r *result) float64 { return float64(r.lat.P50) }, dur},
				{"enqueue→start p99", func(r *result) float64 { return float64(r.lat.P99) }, dur},
			} {
				if f.name == "redis-server CPU per job" && b.backend != "redis" {
					continue
				}
				lv, pv, ratio, bar := "not built on this branch", "", "", ""
				if ladder != nil {
					_, why := done(ladder)
					lv = why
				}
				if ladderOK {
					lv = f.fmtv(f.val(ladder))
				}
				if _, why := done(p); !pOK {
					pv = why
				} else {
					pv = f.fmtv(f.val(p))
				}
				if ladderOK && pOK && f.val(p) > 0 {
					ratio = ratioString(f.val(ladder) / f.val(p))
				}
				if i == 0 && p == best {
					bar = b.bar
					if ladderOK {
						if b.met(f.val(ladder), f.val(p)) {
							bar += ": met"
						} else {
							bar += ": **missed**"
						}
					}
				}
				fmt.Printf("| %s %s (%s vs %s) | %s | %s | %s | %s | %s |\n", b.title, f.name, name(ladder, b.backend), p.e.Name, lv, pv, ratio, bar, cmd)
			}
		}
	}
	fmt.Println()
	fmt.Println("jobs/s: higher is better, so a ratio above 1 means ladder is faster; CPU per job and latency: lower is better, so a ratio below 1 means ladder spends less or starts jobs sooner.")
	fmt.Println("A bar is judged on jobs/s against the best peer of the run (in memory: the absolute figure).")
	fmt.Println("CPU per job is the user + system time of the benchmark process (client, workers and, in memory, the store) over the jobs of the throughput run, on all cores:")
	fmt.Println("on a shared machine it moves less than jobs/s. It leaves out the servers; redis-server's own CPU per job (INFO cpu) is shown apart. 2M jobs/s on 2 cores needs ≤ 1 µs per job.")
	fmt.Println()
}

func ratioString(r float64) string {
	if r < 0.1 {
		return fmt.Sprintf("%.2g×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func name(r *result, backend string) string {
	if r == nil {
		return "ladder-" + backend
	}
	return r.e.Name
}

func done(r *result) (bool, string) {
	switch {
	case r.skip != "":
		return false, "skipped: " + r.skip
	case r.err != nil:
		return false, "failed: " + strings.ReplaceAll(r.err.Error(), "|", "/")
	}
	return true, ""
}

func details(rs []result) {
	fmt.Println("| system | jobs | jobs/s | CPU per job | server CPU per job | latency jobs | p50 | p99 | max |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		if ok, why := done(&r); !ok {
			fmt.Printf("| %s | %s | | | | | | | |\n", r.e.Name, why)
			continue
		}
		srv := "–"
		if r.t.ServerCPU > 0 {
			srv = dur(float64(r.t.ServerCPUPerJob()))
		}
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d at %.0f/s | %s | %s | %s |\n", r.e.Name, r.t.Jobs, r.t.PerSec(), dur(float64(r.t.CPUPerJob())), srv,
			r.lat.Jobs, r.lat.Rate, dur(float64(r.lat.P50)), dur(float64(r.lat.P99)), dur(float64(r.lat.Max)))
	}
}

func dur(v float64) string {
	d := time.Duration(v)
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	case d >= 10*time.Microsecond:
		return d.Round(time.Microsecond).String()
	}
	return d.Round(10 * time.Nanosecond).String()
}
