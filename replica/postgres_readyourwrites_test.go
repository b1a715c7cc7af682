package replica_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
)

// drillPairs is the number of write→read pairs per mode: 1,000 in CI,
// 10,000 with LADDER_DRILL=full.
func drillPairs() int {
	if os.Getenv("LADDER_DRILL") == "full" {
		return 10_000
	}
	return 1_000
}

// staleDrill runs pairs write→read pairs through r, each worker updating its
// own key and reading it back in the same session, while load goroutines
// write to another table. It returns the share of reads that were stale and
// the share served by a replica.
func staleDrill(t *testing.T, r *replica.Router, primary *sql.DB, pairs int) (stale, onReplica float64) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var load sync.WaitGroup
	for range 2 {
		load.Go(func() {
			for ctx.Err() == nil {
				_, _ = primary.ExecContext(ctx, "INSERT INTO load (pad) VALUES (repeat('x', 200))")
			}
		})
	}
	const workers = 4
	var nStale, nReplica, done atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < pairs; i += workers {
				sctx := replica.NewContext(ctx, new(replica.Session))
				if _, err := r.ExecContext(sctx, "UPDATE kv SET v = $2 WHERE k = $1", w, i); err != nil {
					t.Errorf("write: %v", err)
					return
				}
				var v int
				var standby bool
				if err := r.QueryRowContext(sctx, "SELECT v, pg_is_in_recovery() FROM kv WHERE k = $1", w).Scan(&v, &standby); err != nil {
					t.Errorf("read: %v", err)
					return
				}
				if v != i {
					nStale.Add(1)
				}
				if standby {
					nReplica.Add(1)
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	cancel()
	load.Wait()
	n := float64(done.Load())
	return float64(nStale.Load()) / n, float64(nReplica.Load()) / n
}

func drillSchema(t *testing.T, primary, standby *sql.DB) {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE kv (k int PRIMARY KEY, v int NOT NULL)",
		"INSERT INTO kv SELECT g, -1 FROM generate_series(0, 7) g",
		"CREATE TABLE load (id bigserial PRIMARY KEY, pad text)",
	} {
		if _, err := primary.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	testenv.WaitReplay(t, ctx, primary, standby)
}

// TestPostgresStaleReads is the read-your-writes drill on real streaming
// replication: write→read pairs under concurrent write load in every mode.
// Causal wait and global read no stale row; the stale share of the naive
// split (off), fast and time pin and the share of reads the replica served
// are reported.
func TestPostgresStaleReads(t *testing.T) {
	pair := testenv.Replica(t)
	primary, standby := pair.Primary.DB(t), pair.Replica.DB(t)
	drillSchema(t, primary, standby)
	pairs := drillPairs()
	for _, mode := range []replica.ReadYourWrites{replica.RYWOff, replica.RYWTimePin, replica.RYWCausalFast, replica.RYWCausalWait, replica.RYWCausalGlobal} {
		r, err := replica.New(primary, []replica.Replica{{Name: "standby", DB: standby}},
			replica.Options{Positions: pgreplica.Positions{}, ReadYourWrites: mode, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stale, onReplica := staleDrill(t, r, primary, pairs)
		_ = r.Close()
		t.Logf("%-13s %d pairs: stale %5.1f%%, read on the replica %5.1f%% (%v)", mode, pairs, 100*stale, 100*onReplica, time.Since(start).Round(time.Millisecond))
		switch mode {
		case replica.RYWCausalWait, replica.RYWCausalGlobal:
			if stale != 0 {
				t.Errorf("%v: %.2f%% stale reads, want 0", mode, 100*stale)
			}
			if onReplica < 0.5 {
				t.Errorf("%v: only %.1f%% of reads on the replica", mode, 100*onReplica)
			}
		case replica.RYWCausalFast, replica.RYWTimePin:
			if stale != 0 {
				t.Errorf("%v: %.2f%% stale reads, want 0", mode, 100*stale)
			}
		}
	}
}

// Across HTTP requests on real PostgreSQL: a user's POST writes, the next
// GET carries the cookie the POST set, and reads the write on the replica
// (causal wait); without the cookie a read may be stale.
func TestPostgresMiddlewareAcrossRequests(t *testing.T) {
	pair := testenv.Replica(t)
	primary, standby := pair.Primary.DB(t), pair.Replica.DB(t)
	drillSchema(t, primary, standby)
	r, err := replica.New(primary, []replica.Replica{{Name: "standby", DB: standby}},
		replica.Options{Positions: pgreplica.Positions{}, TokenKey: []byte("0123456789abcdef0123"), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /kv/{v}", func(w http.ResponseWriter, req *http.Request) {
		if _, err := r.ExecContext(req.Context(), "UPDATE kv SET v = $1 WHERE k = 0", req.PathValue("v")); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("GET /kv", func(w http.ResponseWriter, req *http.Request) {
		var v int
		var standby bool
		if err := r.QueryRowContext(req.Context(), "SELECT v, pg_is_in_recovery() FROM kv WHERE k = 0").Scan(&v, &standby); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "%d %v", v, standby)
	})
	srv := httptest.NewServer(r.Middleware(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	onReplica := 0
	const n = 200
	for i := range n {
		resp, err := client.Post(fmt.Sprintf("%s/kv/%d", srv.URL, i), "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = client.Get(srv.URL + "/kv")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var v int
		var standby bool
		if _, err := fmt.Sscanf(string(body), "%d %v", &v, &standby); err != nil {
			t.Fatalf("response %q: %v", body, err)
		}
		if v != i {
			t.Fatalf("request pair %d read %d: stale across requests", i, v)
		}
		if standby {
			onReplica++
		}
	}
	t.Logf("%d POST→GET pairs over HTTP: 0 stale, %d read on the replica", n, onReplica)
}
