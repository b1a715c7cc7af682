// Package lbreplicas is example 03-lb-replicas, the third rung: one web server becomes several
// behind a load balancer, and one database becomes a primary with a replica.
//
// An lb.Proxy (this process) spreads requests over N stateless web servers
// (child processes of this binary running examples/app), whose sessions live
// in Redis (session/redisstore), so any server can answer any user. The
// proxy follows each server's readiness (lb.ProbeHTTP, health.Prober), and a
// server drains before it exits (health.Drain). Writes go to the primary and
// reads to the replica through a replica.Router with read-your-writes.
//
// Five drills, each printing what it measured:
//
//  1. SIGKILL a web server under load;
//
//  2. restart every web server, one at a time, under load;
//
//  3. load rises: observe's Advisor fires its web-tier rule, and its action
//     adds a web server to the pool (p99 before and after); load falls and
//     the action removes one, draining it;
//
//  4. "just posted, see your post", read-your-writes off and on;
//
//  5. stop the primary: the router promotes the replica, writes resume.
//
//     go run ./examples/03-lb-replicas                       # miniredis + replicatest's in-process pair
//     go run ./examples/03-lb-replicas -redis 127.0.0.1:6379 # a Redis server (or LADDER_REDIS_ADDR)
//     go run ./examples/03-lb-replicas -quick
//
// The primary and its replica are replica/replicatest's Pair (two SQLite
// databases in this process; the replica really replays the primary's
// commits, behind -lag), served to the web servers over HTTP/JSON
// (app.NewStoreHandler / app.RemoteStore) because SQLite is a library, not a
// server. With -pg-primary and -pg-replica (or LADDER_PG_PRIMARY and
// LADDER_PG_REPLICA) the router runs over PostgreSQL streaming replication
// instead (package pgreplica); drill 5 then stops the primary only if
// -pg-stop says how (a server this program does not own is not stopped
// otherwise), and the router promotes the replica with pg_promote.
package lbreplicas

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/session/redisstore"
)

// Run runs the example (or, in a child process, its role) with the
// command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

type config struct {
	quick     bool
	redis     string
	pgPrimary string
	pgReplica string
	web       int           // web servers at start
	maxWeb    int           // the autoscaler's ceiling
	slots     int           // requests one web server works on at once
	work      time.Duration // the time each request holds its slot
	lag       time.Duration // the pair's replication delay
	step      time.Duration
	pairs     int // drill 4's post-then-read pairs per mode
	kdfIter   int
	jsonPath  string
	pgStop    string // a shell command that stops the PostgreSQL primary
	// stopPG stops the PostgreSQL primary (the -pg-stop command, or a
	// test's hook); nil: drill 5 is not run on PostgreSQL.
	stopPG func(ctx context.Context) error

	// set by the parent for a web server child
	store  string
	prefix string
	drain  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("03-lb-replicas", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests)")
	fs.StringVar(&c.redis, "redis", os.Getenv("LADDER_REDIS_ADDR"), "Redis address host:port for sessions (default $LADDER_REDIS_ADDR); empty runs an embedded miniredis")
	fs.StringVar(&c.pgPrimary, "pg-primary", os.Getenv("LADDER_PG_PRIMARY"), "PostgreSQL primary DSN (default $LADDER_PG_PRIMARY); with -pg-replica, replaces the in-process pair")
	fs.StringVar(&c.pgReplica, "pg-replica", os.Getenv("LADDER_PG_REPLICA"), "PostgreSQL streaming replica DSN (default $LADDER_PG_REPLICA)")
	fs.IntVar(&c.web, "web", 2, "web servers at start (2 to 8)")
	fs.IntVar(&c.maxWeb, "max-web", 4, "most web servers the autoscaler runs (-web to 16)")
	fs.IntVar(&c.slots, "slots", 2, "requests one web server works on at once (its capacity; 1 to 64)")
	fs.DurationVar(&c.work, "work", 40*time.Millisecond, "time each API request holds its slot (0 to 1s)")
	fs.DurationVar(&c.lag, "lag", 100*time.Millisecond, "replication delay of the in-process pair (0 to 10s)")
	fs.DurationVar(&c.step, "step", 0, "base duration of the load phases (default 2s; -quick 600ms)")
	fs.IntVar(&c.pairs, "pairs", 0, "post-then-read pairs per mode in the read-your-writes drill (default 200; -quick 40; 10 to 10000)")
	fs.IntVar(&c.kdfIter, "kdf-iter", 0, fmt.Sprintf("PBKDF2 iterations per password hash (0: %d here, so logins are cheap; production: %d)", app.MinKDFIterations, app.DefaultKDFIterations))
	fs.StringVar(&c.pgStop, "pg-stop", "", "a shell command that stops the PostgreSQL primary (e.g. \"pg_ctl -D … stop -m immediate\"); with it drill 5 stops the primary and the router promotes the replica (pg_promote: superuser); without it drill 5 is not run on PostgreSQL")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file (- for stdout)")
	fs.StringVar(&c.store, "store", "", "(web server child) the data tier's URL")
	fs.StringVar(&c.prefix, "prefix", "", "(web server child) the Redis key prefix")
	fs.DurationVar(&c.drain, "drain", 0, "(web server child) health.Drain's delay")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := stage.CheckOutput(c.jsonPath); err != nil {
		return c, fmt.Errorf("-json: %w", err) // before the run, not after it
	}
	if c.step == 0 {
		c.step = map[bool]time.Duration{false: 2 * time.Second, true: 600 * time.Millisecond}[c.quick]
	}
	if c.kdfIter == 0 {
		c.kdfIter = app.MinKDFIterations
	}
	if c.pairs == 0 {
		c.pairs = map[bool]int{false: 200, true: 40}[c.quick]
	}
	switch {
	case c.web < 2 || c.web > 8:
		return c, fmt.Errorf("-web %d: want 2 to 8", c.web)
	case c.maxWeb < c.web || c.maxWeb > 16:
		return c, fmt.Errorf("-max-web %d: want -web (%d) to 16", c.maxWeb, c.web)
	case c.slots < 1 || c.slots > 64:
		return c, fmt.Errorf("-slots %d: want 1 to 64", c.slots)
	case c.work < 0 || c.work > time.Second:
		return c, fmt.Errorf("-work %v: want 0 to 1s", c.work)
	case c.lag < 0 || c.lag > 10*time.Second:
		return c, fmt.Errorf("-lag %v: want 0 to 10s", c.lag)
	case c.step < 100*time.Millisecond || c.step > time.Minute:
		return c, fmt.Errorf("-step %v: want 100ms to 1m", c.step)
	case c.pairs < 10 || c.pairs > 10_000:
		return c, fmt.Errorf("-pairs %d: want 10 to 10000", c.pairs)
	case c.kdfIter < app.MinKDFIterations || c.kdfIter > 10*app.DefaultKDFIterations: // above, one hash takes seconds: the load measures nothing but the KDF
		return c, fmt.Errorf("-kdf-iter %d: want 0 or %d to %d", c.kdfIter, app.MinKDFIterations, 10*app.DefaultKDFIterations)
	case (c.pgPrimary == "") != (c.pgReplica == ""):
		return c, errors.New("-pg-primary and -pg-replica go together (a primary and its streaming replica)")
	case c.drain < 0:
		return c, fmt.Errorf("-drain %v: want ≥ 0", c.drain)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, nil)
}

// runWith is run with a hook that stops the PostgreSQL primary (a test's).
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, stopPG func(context.Context) error) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "03-lb-replicas:", err)
		return 2
	}
	c.stopPG = stopPG
	if c.pgStop != "" && stopPG == nil {
		c.stopPG = func(ctx context.Context) error {
			out, err := exec.CommandContext(ctx, "sh", "-c", c.pgStop).CombinedOutput()
			if err != nil {
				return fmt.Errorf("-pg-stop: %w: %s", err, out)
			}
			return nil
		}
	}
	if proc.Role() == "web" {
		if err := serveWeb(ctx, c, stderr); err != nil {
			fmt.Fprintln(stderr, "web:", err)
			return 1
		}
		return 0
	}
	if err := walk(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "03-lb-replicas:", err)
		return 1
	}
	return 0
}

// serveWeb is one stateless web server: the application over the data tier,
// sessions in Redis, a fixed number of request slots (its capacity), and a
// drain on SIGTERM.
func serveWeb(ctx context.Context, c config, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	rdb, err := app.OpenRedis(ctx, c.redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	sessions, err := redisstore.New(rdb, redisstore.Options{Prefix: c.prefix})
	if err != nil {
		return err
	}
	// The read-your-writes token travels user → web server (a cookie) →
	// data tier (a header) and back: see readAfter.
	store, err := app.NewRemoteStore(c.store, &http.Client{Timeout: 5 * time.Second, Transport: readAfterTransport{http.DefaultTransport}})
	if err != nil {
		return err
	}
	web, err := app.New(app.Config{
		Store:          store,
		Sessions:       sessions,
		SessionOptions: app.LoopbackSessionOptions(),
		Wrap:           []func(http.Handler) http.Handler{readAfter},
		KDFIterations:  c.kdfIter,
		StoreTimeout:   2 * time.Second,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	defer web.Close()
	ln, err := proc.ChildListen()
	if err != nil {
		return err
	}
	srv := proc.NewServer(withSlots(web, c.slots, c.work))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// SIGTERM (or the parent's ctx): readiness fails, keep-alives go off,
	// the balancer's prober notices within the delay, then the requests in
	// flight finish and the server exits.
	derr := health.Drain(ctx, srv, web.Readiness(), health.DrainOptions{
		Delay: c.drain, Timeout: 5 * time.Second, Signals: []os.Signal{syscall.SIGTERM}, Logger: logger,
	})
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return derr
}

// withSlots gives a web server a fixed capacity: at most slots API requests
// at once, each holding its slot for work (standing in for the rendering and
// calls a real handler spends its time on). A server of this example is
// therefore saturated by load, not by the shared CPU of the machine it runs
// on: on 2 cores shared by every process, a CPU-bound server would gain
// nothing from a sibling. Probes and assets do not queue.
func withSlots(next http.Handler, slots int, work time.Duration) http.Handler {
	sem := make(chan struct{}, slots)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.URL.Path) < 5 || r.URL.Path[:5] != "/api/" {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case sem <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		defer func() { <-sem }()
		if work > 0 {
			t := time.NewTimer(work)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		next.ServeHTTP(w, r)
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
