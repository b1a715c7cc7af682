// Command replicastale measures read-your-writes on real PostgreSQL
// streaming replication: write→read pairs, each reading back the row it just
// wrote in the same session, under concurrent write load, once per
// read-your-writes mode of package replica. It prints the share of stale
// reads, the share the replica served and the read latency (p50, p99, max),
// the table of bench/RESULTS.md. It uses the servers of scripts/bench
// (LADDER_PG_PRIMARY, LADDER_PG_REPLICA).
//
//	cd bench && go run ./cmd/replicastale -n 10000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

var (
	pairs   = flag.Int("n", 10000, "write→read pairs per mode")
	workers = flag.Int("workers", 4, "concurrent sessions doing pairs")
	loaders = flag.Int("load", 2, "goroutines writing background load")
)

func main() {
	flag.Parse()
	pdsn, rdsn := os.Getenv("LADDER_PG_PRIMARY"), os.Getenv("LADDER_PG_REPLICA")
	if pdsn == "" || rdsn == "" {
		fmt.Println("_skipped: LADDER_PG_PRIMARY or LADDER_PG_REPLICA not set (scripts/bench sets them)._")
		return
	}
	if err := run(pdsn, rdsn); err != nil {
		fmt.Fprintln(os.Stderr, "replicastale:", err)
		os.Exit(1)
	}
}

func run(pdsn, rdsn string) error {
	ctx := context.Background()
	primary, err := sql.Open("pgx", pdsn)
	if err != nil {
		return err
	}
	defer primary.Close()
	standby, err := sql.Open("pgx", rdsn)
	if err != nil {
		return err
	}
	defer standby.Close()
	suffix := fmt.Sprint(os.Getpid())
	kv, load := "ladder_stale_kv_"+suffix, "ladder_stale_load_"+suffix
	for _, q := range []string{
		"CREATE TABLE " + kv + " (k int PRIMARY KEY, v int NOT NULL)",
		fmt.Sprintf("INSERT INTO %s SELECT g, -1 FROM generate_series(0, %d) g", kv, *workers-1),
		"CREATE TABLE " + load + " (id bigserial PRIMARY KEY, pad text)",
	} {
		if _, err := primary.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	defer primary.ExecContext(ctx, "DROP TABLE "+kv+", "+load)
	if err := waitTable(ctx, standby, kv); err != nil {
		return err
	}
	fmt.Printf("%d write→read pairs per mode (%d sessions at once), %d goroutines inserting load on the primary; loopback PostgreSQL, one streaming replica.\n\n", *pairs, *workers, *loaders)
	fmt.Println("| read-your-writes mode | stale reads | reads on the replica | read p50 | read p99 | read max |")
	fmt.Println("|---|---|---|---|---|---|")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, mode := range []replica.ReadYourWrites{replica.RYWOff, replica.RYWTimePin, replica.RYWCausalFast, replica.RYWCausalWait, replica.RYWCausalGlobal} {
		r, err := replica.New(primary, []replica.Replica{{Name: "standby", DB: standby}},
			replica.Options{Positions: pgreplica.Positions{}, ReadYourWrites: mode, Logger: quiet})
		if err != nil {
			return err
		}
		res, err := drill(ctx, r, primary, kv, load)
		_ = r.Close()
		if err != nil {
			return fmt.Errorf("%v: %w", mode, err)
		}
		fmt.Printf("| %s | %.2f %% | %.1f %% | %v | %v | %v |\n", mode, 100*res.stale, 100*res.onReplica,
			res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond), res.max.Round(time.Microsecond))
	}
	return nil
}

type result struct {
	stale, onReplica float64
	p50, p99, max    time.Duration
}

func drill(ctx context.Context, r *replica.Router, primary *sql.DB, kv, load string) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	for range *loaders {
		bg.Go(func() {
			for ctx.Err() == nil {
				_, _ = primary.ExecContext(ctx, "INSERT INTO "+load+" (pad) VALUES (repeat('x', 200))")
			}
		})
	}
	var nStale, nReplica atomic.Int64
	lat := make([][]time.Duration, *workers)
	errs := make([]error, *workers)
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			for i := w; i < *pairs; i += *workers {
				sctx := replica.NewContext(ctx, new(replica.Session))
				if _, err := r.ExecContext(sctx, "UPDATE "+kv+" SET v = $2 WHERE k = $1", w, i); err != nil {
					errs[w] = err
					return
				}
				var v int
				var standby bool
				start := time.Now()
				err := r.QueryRowContext(sctx, "SELECT v, pg_is_in_recovery() FROM "+kv+" WHERE k = $1", w).Scan(&v, &standby)
				lat[w] = append(lat[w], time.Since(start))
				if err != nil {
					errs[w] = err
					return
				}
				if v != i {
					nStale.Add(1)
				}
				if standby {
					nReplica.Add(1)
				}
			}
		})
	}
	wg.Wait()
	cancel()
	bg.Wait()
	for _, err := range errs {
		if err != nil {
			return result{}, err
		}
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	n := float64(len(all))
	return result{
		stale: float64(nStale.Load()) / n, onReplica: float64(nReplica.Load()) / n,
		p50: all[len(all)/2], p99: all[len(all)*99/100], max: all[len(all)-1],
	}, nil
}

// waitTable waits until the replica has replayed the table's creation.
func waitTable(ctx context.Context, standby *sql.DB, table string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int
		err := standby.QueryRowContext(ctx, "SELECT count(*) FROM "+table).Scan(&n)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the replica has not replayed %s: %w", table, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
