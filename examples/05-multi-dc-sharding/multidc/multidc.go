// Package multidc is example 05-multi-dc-sharding, the last rung: two regions, each a group
// of processes (web servers and a data tier), clients routed to the nearest
// healthy region, writes copied asynchronously to the other region, and the
// users sharded by name over shard databases. Three drills, each with its own
// numbers:
//
//  1. a region goes down under load: the load balancer shifts traffic to the
//     other region (failed requests, time to shift), and the writes the dead
//     region had acknowledged but not yet copied are counted: they are lost;
//
//  2. resharding 4 → 5 shards online under load: the share of keys moved
//     (against the ideal 1/5), the rows counted and checksummed before and
//     after (none lost) and the pause of the cutover;
//
//  3. a hot tenant: shard.Hot names it, a Directory override gives it a shard
//     of its own, and the load skew before and after.
//
//     go run ./examples/05-multi-dc-sharding                   # SQLite files
//     go run ./examples/05-multi-dc-sharding -pg postgres://…  # PostgreSQL (or LADDER_PG_PRIMARY)
//     go run ./examples/05-multi-dc-sharding -quick
//
// What is real and what stands in: every region is real processes (children
// of this program, SIGKILLed in drill 1) on loopback; the distance between
// the regions is a TCP proxy in this program that delays every chunk by -lag
// each way; the shards are SQLite files (one per shard and region), moved
// online by this example's own copy, catch-up, fenced verify and cutover, or
// PostgreSQL databases made (and dropped at exit) on the server given, moved
// by shard.Migration; sessions live in an embedded miniredis both regions
// reach, standing in for a session store replicated between regions (not
// what the drills are about).
package multidc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/observe"
	"github.com/ladder-go/ladder/session/redisstore"
)

// Run runs the example (or, in a child process, its role) with the
// command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

type config struct {
	quick    bool
	kdfIter  int
	step     time.Duration
	lag      time.Duration
	ship     time.Duration
	webs     int
	seed     int
	jsonPath string
	// child roles
	region, dir, data, redis string
	pg, dbTag                string // PostgreSQL: server DSN; prefix of this run's databases
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("05-multi-dc-sharding", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests)")
	fs.IntVar(&c.kdfIter, "kdf-iter", 0, "PBKDF2 iterations per password hash (0: 600,000; -quick: 1,000)")
	fs.DurationVar(&c.step, "step", 0, "duration of each load phase (default 2s; -quick 600ms)")
	fs.DurationVar(&c.lag, "lag", 0, "one-way latency between the regions (default 30ms; -quick 10ms)")
	fs.DurationVar(&c.ship, "ship", 0, "how often a region ships its writes to the other (default 500ms; -quick 300ms)")
	fs.IntVar(&c.webs, "webs", 0, "web servers per region (default 2; -quick 1)")
	fs.IntVar(&c.seed, "seed", 0, "users seeded in each region before the load, 3 posts each (default 4000; -quick 400)")
	fs.StringVar(&c.pg, "pg", os.Getenv("LADDER_PG_PRIMARY"), "PostgreSQL server DSN (default $LADDER_PG_PRIMARY): the shards become databases made on it (and dropped after); empty runs SQLite files")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file (- for stdout)")
	fs.StringVar(&c.dbTag, "db-tag", "", "(child) the prefix of this run's PostgreSQL databases")
	fs.StringVar(&c.region, "region", "", "(child) the region served")
	fs.StringVar(&c.dir, "dir", "", "(child) the directory of the shard files")
	fs.StringVar(&c.data, "data", "", "(child) the region's data tier URL")
	fs.StringVar(&c.redis, "redis", "", "(child) the session store's address")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := stage.CheckOutput(c.jsonPath); err != nil {
		return c, fmt.Errorf("-json: %w", err) // before the run, not after it
	}
	def := func(d *time.Duration, full, quick time.Duration) {
		if *d == 0 {
			*d = map[bool]time.Duration{false: full, true: quick}[c.quick]
		}
	}
	def(&c.step, 2*time.Second, 600*time.Millisecond)
	def(&c.lag, 30*time.Millisecond, 10*time.Millisecond)
	def(&c.ship, 500*time.Millisecond, 300*time.Millisecond)
	if c.webs == 0 {
		c.webs = map[bool]int{false: 2, true: 1}[c.quick]
	}
	if c.seed == 0 {
		c.seed = map[bool]int{false: 4000, true: 400}[c.quick]
	}
	switch {
	case c.step < 200*time.Millisecond || c.step > time.Minute:
		return c, fmt.Errorf("-step %v: want 200ms to 1m", c.step)
	case c.lag < 0 || c.lag > time.Second:
		return c, fmt.Errorf("-lag %v: want 0 to 1s", c.lag)
	case c.ship < 10*time.Millisecond || c.ship > 10*time.Second:
		return c, fmt.Errorf("-ship %v: want 10ms to 10s", c.ship)
	case c.webs < 1 || c.webs > 8:
		return c, fmt.Errorf("-webs %d: want 1 to 8", c.webs)
	case c.seed < 10 || c.seed > 100_000:
		return c, fmt.Errorf("-seed %d: want 10 to 100000", c.seed)
	case c.kdfIter != 0 && (c.kdfIter < app.MinKDFIterations || c.kdfIter > 10*app.DefaultKDFIterations): // above, one hash takes seconds: the load measures nothing but the KDF
		return c, fmt.Errorf("-kdf-iter %d: want 0 or %d to %d", c.kdfIter, app.MinKDFIterations, 10*app.DefaultKDFIterations)
	}
	if c.pg != "" {
		if _, err := withDatabase(c.pg, "x"); err != nil {
			return c, err
		}
	}
	if c.kdfIter == 0 {
		c.kdfIter = map[bool]int{false: app.DefaultKDFIterations, true: app.MinKDFIterations}[c.quick]
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "05-multi-dc-sharding:", err)
		return 2
	}
	switch proc.Role() {
	case "data":
		err = serveData(ctx, c)
	case "web":
		err = serveWeb(ctx, c)
	default:
		err = walk(ctx, c, stdout, stderr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "05-multi-dc-sharding:", err)
		return 1
	}
	return 0
}

// serveData is a region's data tier: 4 shards, the copy to the other region.
func serveData(ctx context.Context, c config) error {
	s, err := newSharded(c, 4)
	if err != nil {
		return err
	}
	defer s.close()
	s.repl = &replicator{every: c.ship, client: &http.Client{Timeout: 5 * time.Second}}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.repl.run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	ln, err := proc.ChildListen()
	if err != nil {
		return err
	}
	counted := app.Count(s) // the web servers' queries, for queries per request
	mux := http.NewServeMux()
	mux.Handle("GET "+stage.StoreCountsPath, stage.StoreCountsHandler(counted))
	mux.Handle("/", s.handler(app.NewStoreHandler(counted)))
	return proc.Serve(ctx, ln, mux)
}

// serveWeb is one web server of a region: the app over the region's data
// tier, answering with the region's name in X-Region.
func serveWeb(ctx context.Context, c config) error {
	store, err := app.NewRemoteStore(c.data, nil)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(&redis.Options{Addr: c.redis, ContextTimeoutEnabled: true, DialTimeout: 2 * time.Second, MaxRetries: 1})
	defer rdb.Close()
	sessions, err := redisstore.New(rdb, redisstore.Options{Prefix: "ex05:"})
	if err != nil {
		return err
	}
	web, err := app.New(app.Config{
		Store: store, Sessions: sessions, SessionOptions: app.LoopbackSessionOptions(),
		KDFIterations: c.kdfIter, StoreTimeout: time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Wrap: []func(http.Handler) http.Handler{func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("X-Region", c.region)
				h.ServeHTTP(w, r)
			})
		}},
	})
	if err != nil {
		return err
	}
	defer web.Close()
	ln, err := proc.ChildListen()
	if err != nil {
		return err
	}
	return proc.Serve(ctx, ln, web)
}

// region is one region as the parent sees it.
type region struct {
	name  string
	data  *proc.Child
	webs  []*proc.Child
	dataU string // the data tier's URL, direct
}

func (r *region) kill() error {
	for _, w := range r.webs {
		if err := w.Kill(); err != nil {
			return err
		}
	}
	return r.data.Kill()
}

// dataSpec is the data tier child of region name; its -pg defaults to
// $LADDER_PG_PRIMARY, set here to the parent's DSN.
func dataSpec(c config, name, dir string) proc.Spec {
	// The DSN (and its password) goes through the environment: a command
	// line is readable by every user of the machine in /proc/<pid>/cmdline.
	return proc.Spec{Name: name + "-data", Role: "data",
		Args: []string{"-region", name, "-dir", dir, "-ship", c.ship.String(), "-db-tag", c.dbTag},
		Env:  []string{"LADDER_PG_PRIMARY=" + c.pg}}
}

func startRegion(ctx context.Context, c config, g *proc.Group, name, dir, redisAddr string) (*region, error) {
	r := &region{name: name}
	var err error
	r.data, err = g.Start(ctx, dataSpec(c, name, dir))
	if err != nil {
		return nil, err
	}
	r.dataU = r.data.URL()
	for i := range c.webs {
		w, err := g.Start(ctx, proc.Spec{Name: fmt.Sprintf("%s-web%d", name, i+1), Role: "web",
			Args: []string{"-region", name, "-data", r.dataU, "-redis", redisAddr, "-kdf-iter", fmt.Sprint(c.kdfIter)}})
		if err != nil {
			return nil, err
		}
		r.webs = append(r.webs, w)
	}
	return r, nil
}

// lockedWriter serialises writes: the children's output (one copying
// goroutine per child) and this process's logs share stderr.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func walk(ctx context.Context, c config, stdout, stderr io.Writer) error {
	stderr = &lockedWriter{w: stderr}
	dir, err := stage.TempDir("05") // removes what SIGKILLed runs left
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sqlRan := "SQLite files, 4 shards per region (shard.Router, jump hash on the user name); moves: this example's copy, catch-up, fenced verify and cutover"
	if c.pg != "" {
		pg, err := app.OpenPostgres(ctx, c.pg, app.PostgresOptions{ApplicationName: "ladder-ex05"})
		if err != nil {
			return err
		}
		pg.Close()
		c.dbTag = fmt.Sprintf("ex05_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := dropPG(ctx, c.pg, c.dbTag); err != nil {
				fmt.Fprintln(stderr, "05-multi-dc-sharding: dropping this run's databases:", err)
			}
		}()
		sqlRan = fmt.Sprintf("PostgreSQL, 4 shard databases per region (%s_*) on %s, dropped at exit (shard.Router, jump hash on the user name); moves: shard.Migration, one per table", c.dbTag, redactDSN(c.pg))
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return fmt.Errorf("miniredis: %w", err)
	}
	defer mr.Close()

	group, err := proc.NewGroup(proc.Options{Stderr: stderr})
	if err != nil {
		return err
	}
	defer group.Close()
	east, err := startRegion(ctx, c, group, "east", dir, mr.Addr())
	if err != nil {
		return err
	}
	west, err := startRegion(ctx, c, group, "west", dir, mr.Addr())
	if err != nil {
		return err
	}
	// The distance: everything crossing between the regions goes through a
	// delaying proxy (the clients are in the east).
	delays := &delayer{lag: c.lag}
	defer delays.Close()
	toWestData, err := delays.start(west.data.Addr())
	if err != nil {
		return err
	}
	toEastData, err := delays.start(east.data.Addr())
	if err != nil {
		return err
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	if err := postJSON(ctx, cl, east.dataU+"/region/peer", "http://"+toWestData, nil); err != nil {
		return err
	}
	if err := postJSON(ctx, cl, west.dataU+"/region/peer", "http://"+toEastData, nil); err != nil {
		return err
	}
	for _, r := range []*region{east, west} {
		if err := postJSON(ctx, cl, fmt.Sprintf("%s/region/seed?users=%d&posts=3", r.dataU, c.seed), nil, nil); err != nil {
			return err
		}
	}
	fd, err := newFrontDoor(ctx, east, west, delays, stderr)
	if err != nil {
		return err
	}
	defer fd.Close()

	rep := &stage.Report{
		Stage: "05-multi-dc-sharding",
		Title: "two regions with locality routing and async copies, users sharded by name",
		Ran: map[string]string{
			"regions": fmt.Sprintf("east and west, each %d web process(es) and a data tier process; %v one way between them (a delaying TCP proxy in this program)", c.webs, c.lag),
			"sql":     sqlRan,
			"lb":      "lb.Proxy on " + fd.url + " in the east, zones [east west], active /readyz probes and passive ejection",
			"copy":    fmt.Sprintf("asynchronous, each data tier ships its acknowledged writes to the other every %v", c.ship),
			"session": "embedded miniredis both regions reach (stands in for a replicated session store)",
		},
	}
	rep.PrintHeader(stdout)
	fmt.Fprintf(stdout, "   seeded %d users × 3 posts in each region; nearest region answers in %v, the far one in %v (GET /healthz)\n",
		c.seed, rtt(ctx, east.webs[0].URL()), rtt(ctx, "http://"+fd.westAddrs[0]))

	// Warm-up load: where does the traffic go?
	queries := func() (int64, error) {
		var n int64
		for _, r := range []*region{east, west} {
			c, err := stage.FetchStoreCounts(ctx, r.dataU)
			if err != nil {
				return 0, err
			}
			n += c.Queries()
		}
		return n, nil
	}
	queriesBefore, err := queries()
	if err != nil {
		return err
	}
	res, err := load.Run(ctx, load.Options{BaseURL: fd.url, Users: 16, Steps: load.Rising(2, 4, 2, c.step, 50_000)})
	if err != nil {
		return err
	}
	rep.Load = res
	if n, err := queries(); err == nil {
		rep.Figures.DBQueriesPerRequest = stage.PerRequest(n-queriesBefore, stage.Requests(res))
	}
	rep.PrintLoad(stdout)
	e, w := fd.served("east"), fd.served("west")
	near := float64(e) / float64(max(e+w, 1))
	rep.Notes = append(rep.Notes, fmt.Sprintf("locality: %.4f of the requests stayed in the nearest region (east answered %d, west %d)", near, e, w))
	rep.PrintNotes(stdout)

	began1 := time.Now()
	d1, err := regionDownDrill(ctx, c, fd, east, west, stdout)
	if err != nil {
		return err
	}
	if d1.When.IsZero() { // At is since the drill began
		d1.When = began1.Add(d1.At)
	}
	rep.Drills = append(rep.Drills, d1)
	began2 := time.Now()
	d2, err := reshardDrill(ctx, c, fd, west)
	if err != nil {
		return err
	}
	if d2.When.IsZero() { // At is since the drill began
		d2.When = began2.Add(d2.At)
	}
	rep.Drills = append(rep.Drills, d2)
	began3 := time.Now()
	d3, err := hotTenantDrill(ctx, c, fd, west)
	if err != nil {
		return err
	}
	if d3.When.IsZero() { // At is since the drill began
		d3.When = began3.Add(d3.At)
	}
	rep.Drills = append(rep.Drills, d3)
	rep.PrintDrills(stdout)
	// The last rung: the advisor's shard rule, on the skew shard.Hot
	// measured in the data tier (the number its ladder.shard.skew gauge
	// reports), before and after the hot tenant got a shard of its own.
	move, why := stage.RuleOn("shard-hot", observe.Signals{observe.SigShardSkew: d3.Numbers["skew_before"]})
	rep.Move = move
	if why != "" {
		rep.Notes = append(rep.Notes, "before the isolation: "+why)
	}
	if _, after := stage.RuleOn("shard-hot", observe.Signals{observe.SigShardSkew: d3.Numbers["skew_after"]}); after != "" {
		rep.Notes = append(rep.Notes, "after the isolation (the move the drill made): "+after+"; 05 is the last rung: what remains is more of the same moves (more shards, regions, replicas, workers) as the numbers call for them")
	}
	return rep.Finish(stdout, "", c.jsonPath)
}

// bgLoad runs load.Run in the background for one step of d.
func bgLoad(ctx context.Context, url string, workers int, d time.Duration) (wait func() (*load.Result, error), err error) {
	type out struct {
		res *load.Result
		err error
	}
	done := make(chan out, 1)
	started := make(chan struct{})
	go func() {
		res, err := load.Run(ctx, load.Options{
			BaseURL: url, Users: workers, Interval: 50 * time.Millisecond, Timeout: 3 * time.Second,
			Steps:      []load.Step{{Workers: workers, Duration: d, MaxRequests: 200_000}},
			BeforeStep: func(int, load.Step) { close(started) },
		})
		done <- out{res, err}
	}()
	select {
	case <-started:
	case o := <-done:
		return nil, fmt.Errorf("load did not start: %w", o.err)
	}
	return func() (*load.Result, error) { o := <-done; return o.res, o.err }, nil
}

func regionDownDrill(ctx context.Context, c config, fd *frontDoor, east, west *region, stdout io.Writer) (stage.Drill, error) {
	fail := func(err error) (stage.Drill, error) { return stage.Drill{}, fmt.Errorf("region drill: %w", err) }
	led, err := newLedger(ctx, fd.url, "r1", 2)
	if err != nil {
		return fail(err)
	}
	// The ledger's users must have reached the west before the drill.
	if err := waitUsers(ctx, west.dataU, led.users, 10*time.Second); err != nil {
		return fail(err)
	}
	total := 4*c.step + 2*time.Second
	wait, err := bgLoad(ctx, fd.url, 4, total)
	if err != nil {
		return fail(err)
	}
	lctx, stopLedger := context.WithCancel(ctx)
	var lwg sync.WaitGroup
	lwg.Go(func() { led.run(lctx) })
	time.Sleep(c.step)
	killAt := time.Now()
	fd.markKill(killAt)
	if err := east.kill(); err != nil {
		stopLedger()
		lwg.Wait()
		return fail(err)
	}
	res, err := wait()
	stopLedger()
	lwg.Wait()
	if err != nil {
		return fail(err)
	}
	// What the east acknowledged and the west never got.
	var ws regionStats
	if err := callJSON(ctx, http.DefaultClient, http.MethodGet, west.dataU+"/region/stats", nil, &ws); err != nil {
		return fail(err)
	}
	ackedEast := fd.writes("east")
	lost := max(ackedEast-ws.Received, 0)
	have, err := bodySet(ctx, west.dataU, led.prefix)
	if err != nil {
		return fail(err)
	}
	ledEast, ledLost, ledWestMissing := 0, 0, 0
	for body, reg := range led.acked() {
		if reg == "east" {
			ledEast++
			if !have[body] {
				ledLost++
			}
		} else if !have[body] {
			ledWestMissing++
		}
	}
	// Failures and shift time.
	start := res.Start
	var after, afterErr, tailN, tailErr int
	var p99Before, p99After []time.Duration // per interval: the near region, then the far one
	for _, s := range res.Timeline {
		if start.Add(s.At + res.Interval).After(killAt) {
			after += s.Requests
			afterErr += s.Errors
			if s.At >= res.Elapsed/2 && s.Requests > 0 {
				p99After = append(p99After, s.P99)
			}
		} else if s.Requests > 0 {
			p99Before = append(p99Before, s.P99)
		}
		if s.At >= res.Elapsed/2 {
			tailN += s.Requests
			tailErr += s.Errors
		}
	}
	afterErr += led.failed()
	shift := fd.firstWestAfterKill().Sub(killAt)
	lastFail := fd.lastFailure().Sub(killAt)
	if lastFail < 0 {
		lastFail = 0
	}
	bound := max(after/50, 5) // 2 % of the requests after the kill, or 5
	holds := fd.served("west") > 0 && shift >= 0 && afterErr <= bound && tailN > 0 && tailErr == 0 && ledWestMissing == 0
	return stage.Drill{
		Name: "a region goes down under load", At: killAt.Sub(start), When: killAt, Holds: holds,
		Outcome: fmt.Sprintf("SIGKILLed every east process; the west answered from %v after the kill; %d of %d requests after the kill failed (bound %d), the last %v after it; the last half %d requests, %d failed; median p99 per interval %v in the east before, %v from the west after. "+
			"The async copy lost %d of the %d writes the east acknowledged (acknowledged %d, the west received %d); of the ledger's %d posts acknowledged by the east, %d are missing in the west",
			shift.Round(time.Millisecond), afterErr, after+led.total(), bound, lastFail.Round(time.Millisecond), tailN, tailErr,
			load.Round(median(p99Before)), load.Round(median(p99After)),
			lost, ackedEast, ackedEast, ws.Received, ledEast, ledLost),
		Numbers: map[string]float64{"shift_seconds": shift.Seconds(), "failed_after_kill": float64(afterErr), "requests_after_kill": float64(after),
			"tail_errors": float64(tailErr), "p99_before_seconds": median(p99Before).Seconds(), "p99_after_seconds": median(p99After).Seconds(), "lost_writes": float64(lost), "acked_east": float64(ackedEast),
			"ledger_acked_east": float64(ledEast), "ledger_lost": float64(ledLost)},
	}, nil
}

func reshardDrill(ctx context.Context, c config, fd *frontDoor, west *region) (stage.Drill, error) {
	fail := func(err error) (stage.Drill, error) { return stage.Drill{}, fmt.Errorf("reshard drill: %w", err) }
	led, err := newLedger(ctx, fd.url, "r2", 2)
	if err != nil {
		return fail(err)
	}
	wait, err := bgLoad(ctx, fd.url, 4, 3*c.step)
	if err != nil {
		return fail(err)
	}
	lctx, stopLedger := context.WithCancel(ctx)
	var lwg sync.WaitGroup
	lwg.Go(func() { led.run(lctx) })
	time.Sleep(c.step / 2)
	var mv moveReport
	merr := postJSON(ctx, &http.Client{Timeout: 2 * time.Minute}, west.dataU+"/region/reshard?shards=5", nil, &mv)
	res, err := wait()
	stopLedger()
	lwg.Wait()
	if merr != nil {
		return fail(merr)
	}
	if err != nil {
		return fail(err)
	}
	have, err := bodySet(ctx, west.dataU, led.prefix)
	if err != nil {
		return fail(err)
	}
	missing := 0
	for body := range led.acked() {
		if !have[body] {
			missing++
		}
	}
	st := res.Steps[0].Stats
	lost := (mv.UsersBefore - mv.UsersAfter) + (mv.PostsBefore - mv.PostsAfter)
	holds := lost == 0 && mv.SumBefore == mv.SumAfter && missing == 0 && mv.Moved > 0.12 && mv.Moved < 0.28
	return stage.Drill{
		Name: "reshard 4 → 5 shards online under load", Holds: holds,
		Outcome: fmt.Sprintf("map v%d → v%d (jump hash): %d of %d users moved (%s, ideal 1/5 = 20%%) with %d posts, %d changes made during the copy replayed; "+
			"counted %s: %d users and %d posts before, %d and %d after (%d rows lost), checksum %s before, %s after; writes paused %v at cutover, copy %v; "+
			"%d requests meanwhile, %d failed, p99 %v; the ledger's %d posts acknowledged during the move: %d missing",
			mv.From, mv.To, mv.MovedKeys, mv.Keys, load.Percent(mv.Moved), mv.MovedPosts, mv.Resynced,
			mv.Census, mv.UsersBefore, mv.PostsBefore, mv.UsersAfter, mv.PostsAfter, lost, mv.SumBefore, mv.SumAfter,
			secs(mv.Pause), secs(mv.Copy), st.Requests+led.total(), st.Errors+led.failed(), load.Round(st.P99), len(led.acked()), missing),
		Numbers: map[string]float64{"moved_share": mv.Moved, "rows_lost": float64(lost), "pause_seconds": mv.Pause,
			"failed": float64(st.Errors + led.failed()), "ledger_missing": float64(missing)},
	}, nil
}

func hotTenantDrill(ctx context.Context, c config, fd *frontDoor, west *region) (stage.Drill, error) {
	fail := func(err error) (stage.Drill, error) { return stage.Drill{}, fmt.Errorf("hot tenant drill: %w", err) }
	tenant, err := newLedger(ctx, fd.url, "hot", 1)
	if err != nil {
		return fail(err)
	}
	name := tenant.users[0]
	// The tenant's page is read by as many readers as every other page
	// together (the seeded users', chosen at random).
	phase := func() (hotReport, load.Stats, error) {
		var hr hotReport
		if err := postJSON(ctx, http.DefaultClient, west.dataU+"/region/hot/reset", nil, nil); err != nil {
			return hr, load.Stats{}, err
		}
		hctx, cancel := context.WithTimeout(ctx, c.step)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var lat []time.Duration
		var errs int
		for i := range 8 {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(i), 5))
				for n := 0; n < 20_000 && hctx.Err() == nil; n++ {
					who := name
					if i%2 == 1 {
						who = fmt.Sprintf("seed-%05d", rnd.IntN(c.seed))
					}
					t := time.Now()
					code := get(hctx, fd.url+"/api/users/"+who+"/posts?limit=5")
					if hctx.Err() != nil {
						return
					}
					mu.Lock()
					lat = append(lat, time.Since(t))
					if code != http.StatusOK {
						errs++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		cancel()
		err := callJSON(ctx, http.DefaultClient, http.MethodGet, west.dataU+"/region/hot", nil, &hr)
		slices.Sort(lat)
		st := load.Stats{Requests: len(lat), Errors: errs}
		if len(lat) > 0 {
			st.P99 = lat[len(lat)*99/100]
		}
		return hr, st, err
	}
	before, res1, err := phase()
	if err != nil {
		return fail(err)
	}
	named := len(before.Suggest) > 0 && before.Suggest[0].Key == keyOf(name)
	var mv moveReport
	if err := postJSON(ctx, &http.Client{Timeout: time.Minute}, west.dataU+"/region/isolate?tenant="+name, nil, &mv); err != nil {
		return fail(err)
	}
	after, res2, err := phase()
	if err != nil {
		return fail(err)
	}
	var where struct {
		Shard       string `json:"shard"`
		Users       int    `json:"users_on_shard"`
		OthersPosts int    `json:"others_posts_on_shard"`
	}
	if err := callJSON(ctx, http.DefaultClient, http.MethodGet, west.dataU+"/region/where?name="+name, nil, &where); err != nil {
		return fail(err)
	}
	n := len(before.Counts)
	skewAfter := skew(after.Counts[:n]) // the shards the other tenants share
	var sum int64
	for _, v := range after.Counts {
		sum += v
	}
	alone := where.Users == 1 && where.OthersPosts == 0 && where.Shard == after.Shards[len(after.Shards)-1]
	share := 0.0
	if len(before.Suggest) > 0 {
		share = before.Suggest[0].Share
	}
	holds := named && alone && skewAfter < before.Skew && res1.Errors+res2.Errors == 0 && mv.UsersBefore == mv.UsersAfter && mv.PostsBefore == mv.PostsAfter
	return stage.Drill{
		Name: "a hot tenant found and isolated", Holds: holds,
		Outcome: fmt.Sprintf("shard.Hot named %s (%v) as %s of shard %s's requests; skew (busiest ÷ mean) over the %d shards %.2f before; "+
			"map v%d → v%d put it alone on shard %s (%d users there, %d posts of others; %d rows lost, pause %v); after, the %d shared shards' skew %.2f and the tenant's own shard took %s of the requests; "+
			"%d and %d requests (%d failed), p99 %v before, %v after",
			name, named, load.Percent(share), before.Shards[max(before.Max, 0)], n, before.Skew,
			mv.From, mv.To, where.Shard, where.Users, where.OthersPosts, (mv.PostsBefore-mv.PostsAfter)+(mv.UsersBefore-mv.UsersAfter), secs(mv.Pause),
			n, skewAfter, load.Percent(float64(after.Counts[len(after.Counts)-1])/float64(max(sum, 1))),
			res1.Requests, res2.Requests, res1.Errors+res2.Errors, load.Round(res1.P99), load.Round(res2.P99)),
		Numbers: map[string]float64{"skew_before": before.Skew, "skew_after": skewAfter, "hot_share": share,
			"failed": float64(res1.Errors + res2.Errors)},
	}, nil
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func secs(s float64) time.Duration { return load.Round(time.Duration(s * float64(time.Second))) }

func skew(counts []int64) float64 {
	var sum, mx int64
	for _, c := range counts {
		sum += c
		mx = max(mx, c)
	}
	if sum == 0 {
		return 0
	}
	return float64(mx) / (float64(sum) / float64(len(counts)))
}

func waitUsers(ctx context.Context, dataURL string, users []string, within time.Duration) error {
	end := time.Now().Add(within)
	for _, u := range users {
		for get(ctx, dataURL+"/store/users/"+u) != http.StatusOK {
			if time.Now().After(end) || ctx.Err() != nil {
				return fmt.Errorf("user %s not copied to %s within %v", u, dataURL, within)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func bodySet(ctx context.Context, dataURL, prefix string) (map[string]bool, error) {
	var bodies []string
	if err := callJSON(ctx, http.DefaultClient, http.MethodGet, dataURL+"/region/bodies?prefix="+prefix, nil, &bodies); err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(bodies))
	for _, b := range bodies {
		set[b] = true
	}
	return set, nil
}

func rtt(ctx context.Context, url string) time.Duration {
	best := time.Hour
	for range 5 {
		t := time.Now()
		get(ctx, url+"/healthz")
		best = min(best, time.Since(t))
	}
	return load.Round(best)
}

func get(ctx context.Context, url string) int {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
