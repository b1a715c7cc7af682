// Package cachecdn is example 04-cache-cdn, the fourth rung: the same reads
// stop reaching the database, and the same bytes stop crossing the distance
// to the origin.
//
// Users reach the service through an edge cache (cache/edge, an RFC 9111
// shared cache standing in for a CDN point of presence near them) in front
// of the origin, which is far away: every request the edge forwards pays an
// injected round trip (-rtt, 40 ms). The origin is an lb.Proxy in front of
// web servers (child processes of this binary running examples/app) whose
// feed reads go through cache-aside (cache.Aside: one load per key however
// many readers miss together, stale-while-revalidate), process-local or over
// a shared Redis tier (cache/rediscache) when -redis or LADDER_REDIS_ADDR is
// given. Static assets are fingerprinted (cache/assets): hashed URLs served
// immutable, which the edge keeps.
//
// The database is SQLite in this process, served to the web servers over
// HTTP/JSON (app.NewStoreHandler), with a simulated cost per read query
// (-db-work on -db-slots connections), so that a stampede has a price; every
// query is counted (app.Count).
//
// After a rising load and a comparison of page loads with and without the
// edge, two drills:
//
//  1. a hot key expires while -burst users read it: without stampede
//     protection (a naive cache-aside) every one of them queries the
//     database; with cache.Aside, one query per web server;
//
//  2. a rolling deploy changes the assets' hashes while pages of the old
//     build are still open: the old hashed URLs keep answering 200, through
//     the edge and with the edge purged (assets.Options.Previous), and the
//     new pages reference the new hashes.
//
//     go run ./examples/04-cache-cdn                          # in-process caches
//     go run ./examples/04-cache-cdn -redis 127.0.0.1:6379    # a shared Redis tier (or LADDER_REDIS_ADDR)
//     go run ./examples/04-cache-cdn -quick
package cachecdn

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

const name = "04-cache-cdn"

// Run runs the example (or, in a child process, its role) with the
// command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

type config struct {
	quick    bool
	redis    string
	web      int           // web servers
	rtt      time.Duration // users ↔ origin round trip
	dbWork   time.Duration // the cost of one read query
	dbSlots  int           // read queries the database runs at once
	ttl      time.Duration // the feed cache's TTL
	burst    int           // readers at the hot key's expiry (drill 1)
	step     time.Duration
	kdfIter  int
	jsonPath string

	// set by the parent for a web server child
	store    string // the data tier's URL
	sessions string // the Redis holding sessions
	mode     string // the feed cache: naive, aside or swr
	build    int    // the assets' build: 1 or 2
	previous bool   // build 2 keeps serving build 1's hashed names
	prefix   string // Redis key prefix
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests)")
	fs.StringVar(&c.redis, "redis", os.Getenv("LADDER_REDIS_ADDR"), "Redis address host:port for a shared cache tier (default $LADDER_REDIS_ADDR); empty keeps each web server's cache in its process")
	fs.IntVar(&c.web, "web", 2, "web servers behind the balancer (1 to 8)")
	fs.DurationVar(&c.rtt, "rtt", 40*time.Millisecond, "round trip between the users (and the edge) and the origin (0 to 1s)")
	fs.DurationVar(&c.dbWork, "db-work", 30*time.Millisecond, "time one read query holds a database connection (0 to 1s)")
	fs.IntVar(&c.dbSlots, "db-slots", 4, "read queries the database runs at once (1 to 64)")
	fs.DurationVar(&c.ttl, "ttl", 0, "the feed cache's TTL (default 500ms; 50ms to 1m)")
	fs.IntVar(&c.burst, "burst", 0, "users reading the hot key as it expires, drill 1 (default 64; -quick 32; 4 to 1000)")
	fs.DurationVar(&c.step, "step", 0, "duration of each load step (default 2s; -quick 500ms)")
	fs.IntVar(&c.kdfIter, "kdf-iter", 0, fmt.Sprintf("PBKDF2 iterations per password hash (0: %d here, so logins are cheap; production: %d)", app.MinKDFIterations, app.DefaultKDFIterations))
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file (- for stdout)")
	fs.StringVar(&c.store, "store", "", "(web server child) the data tier's URL")
	fs.StringVar(&c.sessions, "sessions", "", "(web server child) the Redis address holding sessions")
	fs.StringVar(&c.mode, "cache", "swr", "(web server child) the feed cache: naive, aside or swr")
	fs.IntVar(&c.build, "build", 1, "(web server child) the assets' build, 1 or 2")
	fs.BoolVar(&c.previous, "previous", true, "(web server child) build 2 keeps serving build 1's hashed names")
	fs.StringVar(&c.prefix, "prefix", "", "(web server child) the Redis key prefix")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := stage.CheckOutput(c.jsonPath); err != nil {
		return c, fmt.Errorf("-json: %w", err) // before the run, not after it
	}
	pick := func(v *time.Duration, full, quick time.Duration) {
		if *v == 0 {
			*v = map[bool]time.Duration{false: full, true: quick}[c.quick]
		}
	}
	pick(&c.step, 2*time.Second, 500*time.Millisecond)
	pick(&c.ttl, 500*time.Millisecond, 500*time.Millisecond) // a burst on a busy machine must end within it: a second expiry would count twice
	if c.burst == 0 {
		c.burst = map[bool]int{false: 64, true: 32}[c.quick]
	}
	if c.kdfIter == 0 {
		c.kdfIter = app.MinKDFIterations
	}
	switch {
	case c.web < 1 || c.web > 8:
		return c, fmt.Errorf("-web %d: want 1 to 8", c.web)
	case c.rtt < 0 || c.rtt > time.Second:
		return c, fmt.Errorf("-rtt %v: want 0 to 1s", c.rtt)
	case c.dbWork < 0 || c.dbWork > time.Second:
		return c, fmt.Errorf("-db-work %v: want 0 to 1s", c.dbWork)
	case c.dbSlots < 1 || c.dbSlots > 64:
		return c, fmt.Errorf("-db-slots %d: want 1 to 64", c.dbSlots)
	case c.ttl < 50*time.Millisecond || c.ttl > time.Minute:
		return c, fmt.Errorf("-ttl %v: want 50ms to 1m", c.ttl)
	case c.burst < 4 || c.burst > 1000:
		return c, fmt.Errorf("-burst %d: want 4 to 1000", c.burst)
	case c.step < 100*time.Millisecond || c.step > time.Minute:
		return c, fmt.Errorf("-step %v: want 100ms to 1m", c.step)
	case c.kdfIter < app.MinKDFIterations || c.kdfIter > 10*app.DefaultKDFIterations: // above, one hash takes seconds: the load measures nothing but the KDF
		return c, fmt.Errorf("-kdf-iter %d: want 0 or %d to %d", c.kdfIter, app.MinKDFIterations, 10*app.DefaultKDFIterations)
	case c.mode != "naive" && c.mode != "aside" && c.mode != "swr":
		return c, fmt.Errorf("-cache %q: want naive, aside or swr", c.mode)
	case c.build != 1 && c.build != 2:
		return c, fmt.Errorf("-build %d: want 1 or 2", c.build)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 2
	}
	if proc.Role() == "web" {
		if err := serveWeb(ctx, c, stderr); err != nil {
			fmt.Fprintln(stderr, "web:", err)
			return 1
		}
		return 0
	}
	if err := walk(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, name+":", err)
		return 1
	}
	return 0
}
