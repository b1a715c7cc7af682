// Package splitwebdb is example 02-split-web-db, the second rung: the database leaves the web
// server's process. The web tier reaches it over the network through a
// circuit breaker, and its readiness endpoint reports whether the database
// answers. The drill restarts the database under load: the web tier stays
// up, its readiness flips to "not ready" and back, the breaker opens (requests
// fail in microseconds instead of waiting for timeouts) and closes, and
// requests succeed again once the database is back.
//
//	go run ./examples/02-split-web-db                     # SQLite data tier in its own process
//	go run ./examples/02-split-web-db -pg postgres://…    # PostgreSQL (or LADDER_PG_PRIMARY)
//	go run ./examples/02-split-web-db -quick
//
// SQLite is a library, not a server: to run it in a process of its own,
// this example serves the application's Store over HTTP/JSON from a child
// process (app.NewStoreHandler) and the web tier uses app.RemoteStore. With
// PostgreSQL the web tier talks to the server directly; the drill then
// cannot restart a server it does not own, so it terminates the web tier's
// database sessions instead (pg_terminate_backend), and says so.
package splitwebdb

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/observe"
)

// Run runs the example (or, in a child process, its role) with the
// command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

type config struct {
	quick    bool
	pg       string
	kdfIter  int
	step     time.Duration
	down     time.Duration
	dbPath   string
	jsonPath string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("02-split-web-db", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests)")
	fs.StringVar(&c.pg, "pg", os.Getenv("LADDER_PG_PRIMARY"), "PostgreSQL DSN (default $LADDER_PG_PRIMARY); empty runs SQLite in a child process")
	fs.IntVar(&c.kdfIter, "kdf-iter", 0, "PBKDF2 iterations per password hash (0: 600,000; -quick: 1,000)")
	fs.DurationVar(&c.step, "step", 0, "duration of each load step (default 2s; -quick 500ms)")
	fs.DurationVar(&c.down, "down", 0, "how long the database stays down in the drill (default 2s; -quick 700ms)")
	fs.StringVar(&c.dbPath, "db", "", "the SQLite file (default: in a temporary directory)")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file (- for stdout)")
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
		c.step = map[bool]time.Duration{false: 2 * time.Second, true: 500 * time.Millisecond}[c.quick]
	}
	if c.down == 0 {
		c.down = map[bool]time.Duration{false: 2 * time.Second, true: 700 * time.Millisecond}[c.quick]
	}
	switch {
	case c.step < 100*time.Millisecond || c.step > time.Minute:
		return c, fmt.Errorf("-step %v: want 100ms to 1m", c.step)
	case c.down < 100*time.Millisecond || c.down > time.Minute:
		return c, fmt.Errorf("-down %v: want 100ms to 1m", c.down)
	case c.kdfIter != 0 && (c.kdfIter < app.MinKDFIterations || c.kdfIter > 10*app.DefaultKDFIterations): // above, one hash takes seconds: the load measures nothing but the KDF
		return c, fmt.Errorf("-kdf-iter %d: want 0 or %d to %d", c.kdfIter, app.MinKDFIterations, 10*app.DefaultKDFIterations)
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
		fmt.Fprintln(stderr, "02-split-web-db:", err)
		return 2
	}
	if proc.Role() == "db" {
		return serveData(ctx, c, stderr)
	}
	if err := walk(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "02-split-web-db:", err)
		return 1
	}
	return 0
}

// serveData is the data tier: SQLite behind the Store's HTTP/JSON API.
func serveData(ctx context.Context, c config, stderr io.Writer) int {
	fail := func(err error) int { fmt.Fprintln(stderr, "db:", err); return 1 }
	db, err := app.OpenSQLite(c.dbPath)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	store, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		return fail(err)
	}
	if err := store.Migrate(ctx); err != nil {
		return fail(err)
	}
	ln, err := proc.ChildListen()
	if err != nil {
		return fail(err)
	}
	if err := proc.Serve(ctx, ln, app.NewStoreHandler(store)); err != nil {
		return fail(err)
	}
	return 0
}

// dataTier is the database as the web tier and the drill see it.
type dataTier struct {
	store app.Store
	ran   string
	// restarts: the drill really stops the database (readiness must flip
	// and the breaker open); without it (PostgreSQL we do not own) the
	// pool reconnects at once and only recovery is required.
	restarts bool
	outage   func(ctx context.Context, down time.Duration) (string, error) // the drill's fault
	close    func()
}

func startData(ctx context.Context, c config, group *proc.Group) (*dataTier, error) {
	if c.pg != "" {
		appName := "ladder-example-02-" + strconv.Itoa(os.Getpid()) // the drill ends only these sessions
		// The run's tables live in a schema of its own, dropped at exit: the
		// operator's database is left as found, and two runs at once do not
		// share a feed.
		// (CreateRunSchema first drops the schemas SIGKILLed runs left.)
		rs, err := app.CreateRunSchema(ctx, c.pg, "ladder_ex02_", appName+"-admin")
		if err != nil {
			return nil, err
		}
		schema := rs.Name
		dropSchema := func() {
			if err := rs.Drop(context.Background()); err != nil {
				slog.Error("02-split-web-db: schema left behind", "schema", schema, "err", err)
			}
		}
		db, err := app.OpenPostgres(ctx, c.pg, app.PostgresOptions{ApplicationName: appName, SearchPath: schema})
		if err != nil {
			dropSchema()
			return nil, err
		}
		db.SetMaxOpenConns(16)
		store, err := app.NewSQLStore(db, nil, app.Postgres)
		if err == nil {
			err = store.Migrate(ctx)
		}
		if err != nil {
			db.Close()
			dropSchema()
			return nil, err
		}
		return &dataTier{
			store: store, ran: "PostgreSQL (server given by -pg / LADDER_PG_PRIMARY), schema " + schema + " (dropped at exit)",
			outage: func(ctx context.Context, down time.Duration) (string, error) {
				return "terminated the web tier's PostgreSQL sessions (a server this program does not own is not restarted)", terminateOwn(ctx, db, appName, down)
			},
			close: func() { db.Close(); dropSchema() },
		}, nil
	}
	dbc, err := group.Start(ctx, proc.Spec{Name: "db", Role: "db", Args: []string{"-db", c.dbPath}})
	if err != nil {
		return nil, err
	}
	store, err := app.NewRemoteStore(dbc.URL(), nil)
	if err != nil {
		return nil, err
	}
	return &dataTier{
		store:    store,
		restarts: true,
		ran:      fmt.Sprintf("SQLite in its own process (pid %d, %s), served over HTTP/JSON", dbc.Pid(), dbc.URL()),
		outage: func(ctx context.Context, down time.Duration) (string, error) {
			if err := dbc.Kill(); err != nil {
				return "", err
			}
			time.Sleep(down)
			return fmt.Sprintf("SIGKILLed the database process, restarted it after %v", down), dbc.Restart(ctx)
		},
		close: func() {},
	}, nil
}

// terminateOwn ends the web tier's own sessions (those with its
// application_name), repeatedly for down: the connections drop as in a
// restart, and new ones are ended as they come. Nobody else's session is
// touched.
func terminateOwn(ctx context.Context, db *sql.DB, appName string, down time.Duration) error {
	admin, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer admin.Close()
	end := time.Now().Add(down)
	for time.Now().Before(end) {
		_, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`, appName)
		if err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

func walk(ctx context.Context, c config, stdout, stderr io.Writer) error {
	if c.dbPath == "" {
		dir, err := stage.TempDir("02") // removes what SIGKILLed runs left
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		c.dbPath = filepath.Join(dir, "app.db")
	}
	group, err := proc.NewGroup(proc.Options{Stderr: stderr})
	if err != nil {
		return err
	}
	defer group.Close()
	data, err := startData(ctx, c, group)
	if err != nil {
		return err
	}
	defer data.close()

	tel, err := stage.NewTelemetry(ctx, "02-split-web-db", 0, stderr, slog.LevelError)
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background())

	// The web tier: the app over the data tier, through a breaker that
	// opens after 5 consecutive failures and tries again after 300 ms (its
	// state is one of the advisor's signals).
	var opened, closed atomic.Int64
	breaker, err := health.NewGoBreaker("db", health.GoBreakerOptions{
		Settings: gobreaker.Settings{
			Timeout: 300 * time.Millisecond,
			OnStateChange: func(_ string, _, to gobreaker.State) {
				switch to {
				case gobreaker.StateOpen:
					opened.Add(1)
				case gobreaker.StateClosed:
					closed.Add(1)
				}
			},
		},
		Logger:        slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		MeterProvider: tel.Tel.MeterProvider,
	})
	if err != nil {
		return err
	}
	counted := app.Count(data.store) // database queries per request
	web, err := app.New(app.Config{
		Store:          app.WithBreaker(counted, breaker),
		SessionOptions: app.LoopbackSessionOptions(),
		Observe:        tel.Middleware,
		KDFIterations:  c.kdfIter,
		StoreTimeout:   time.Second,
		Logger:         tel.Logger,
	})
	if err != nil {
		return err
	}
	defer web.Close()
	webURL, stopWeb, err := proc.ServeLocal(ctx, web)
	if err != nil {
		return err
	}
	defer stopWeb()

	rep := &stage.Report{
		Stage: "02-split-web-db",
		Title: "the database in its own process, behind a breaker and a readiness check",
		Ran:   map[string]string{"web": "this process, " + webURL, "sql": data.ran},
	}
	rep.PrintHeader(stdout)

	// 1. A short rising load, for the numbers.
	res, err := load.Run(ctx, load.Options{BaseURL: webURL, Users: 8, Steps: load.Rising(2, 6, 2, c.step, 50_000)})
	if err != nil {
		return err
	}
	rep.Load = res
	rep.Figures.DBQueriesPerRequest = stage.PerRequest(counted.Counts().Queries(), stage.Requests(res))
	rep.PrintLoad(stdout)

	// 2. Restart the database under load.
	d, move, err := restartDrill(ctx, c, webURL, data, tel.Advisor, &opened, &closed)
	if err != nil {
		return err
	}
	rep.Drills = append(rep.Drills, d)
	rep.PrintDrills(stdout)
	rep.Move = move
	if move == "" {
		rep.Notes = append(rep.Notes, "the advisor fired no rule during the outage: its dependency-down rule needs the breaker open while requests fail, "+
			"and here the breaker did not open (the pool reconnected at once)")
	}
	if reads := readShare(res); reads > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("reads were %s of the requests (the load's mix): the standby replica that survives the database's loss can take them too, and more web servers behind lb the rest (03)", load.Percent(reads)))
	}
	return rep.Finish(stdout, "next: 03-lb-replicas puts several web servers behind a load balancer and adds read replicas.", c.jsonPath)
}

// restartDrill runs a steady load, takes the database down for c.down and
// brings it back, watching the web tier's readiness and breaker.
//
// It returns the advisor's line read while the breaker was open ("" if no
// rule fired): the move the outage calls for, with its numbers.
func restartDrill(ctx context.Context, c config, webURL string, data *dataTier, adv *observe.Advisor, opened, closed *atomic.Int64) (_ stage.Drill, move string, _ error) {
	interval := 50 * time.Millisecond
	total := c.down + 6*c.step
	if total < c.down+3*time.Second {
		total = c.down + 3*time.Second // time for the breaker to close and readiness to settle
	}
	// Readiness, polled.
	var notReady, readyAgain atomic.Int64
	var liveFailures atomic.Int64
	pollCtx, stopPoll := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		was := true
		for pollCtx.Err() == nil {
			ready := get(pollCtx, webURL+"/readyz") == http.StatusOK
			if get(pollCtx, webURL+"/healthz") != http.StatusOK && pollCtx.Err() == nil {
				liveFailures.Add(1)
			}
			if was && !ready {
				notReady.Add(1)
			} else if !was && ready {
				readyAgain.Add(1)
			}
			was = ready
			select {
			case <-pollCtx.Done():
			case <-time.After(interval):
			}
		}
	})
	defer func() { stopPoll(); wg.Wait() }()

	bg := load.Start(ctx, load.Options{
		BaseURL: webURL, Users: 4, Interval: interval, Timeout: 2 * time.Second,
		Steps: []load.Step{{Workers: 4, Duration: total, MaxRequests: 200_000}},
	})
	if err := bg.WaitStarted(); err != nil {
		bg.Wait()
		return stage.Drill{}, "", fmt.Errorf("restart drill: %w", err)
	}
	time.Sleep(c.step)
	// The advisor's rates run from one evaluation to the next: this one
	// starts the interval the outage ends.
	_, _ = adv.Evaluate(ctx)
	moved := make(chan string, 1)
	faultAt := time.Now()
	go func() { moved <- adviseWhileOpen(ctx, adv, opened, c.down, interval) }()
	what, err := data.outage(ctx, c.down)
	backAt := time.Now()
	move = <-moved
	res, werr := bg.Wait()
	if err != nil {
		return stage.Drill{}, "", fmt.Errorf("restart drill: %w", err)
	}
	if werr != nil {
		return stage.Drill{}, "", fmt.Errorf("restart drill: %w", werr)
	}
	stopPoll()
	wg.Wait()

	fault, back := res.Since(faultAt), res.Since(backAt)
	before, during, after := res.Window(0, fault), res.Window(fault, back), res.Window(back, 0)
	tail := res.Window(res.Elapsed*3/4, 0) // the last quarter must be error-free
	var lastErrAt, outageP99 time.Duration
	for _, s := range res.Timeline {
		if s.Errors > 0 {
			lastErrAt = s.At + interval
		}
		if s.At >= fault && s.At+interval <= back {
			outageP99 = max(outageP99, s.P99)
		}
	}
	recovery := max(lastErrAt-back, 0)
	holds := liveFailures.Load() == 0 && tail.Requests > 0 && tail.Errors == 0
	if data.restarts {
		holds = holds && notReady.Load() >= 1 && readyAgain.Load() >= 1 && opened.Load() >= 1 && closed.Load() >= 1
	}
	return stage.Drill{
		Name:  "restart the database under load",
		At:    fault,
		When:  faultAt,
		Holds: holds,
		Outcome: fmt.Sprintf("%s; web tier alive throughout (%d failed liveness checks), readiness went not-ready %d× and ready again %d×, "+
			"breaker opened %d× and closed %d×; %d requests before, %d during the outage (%d failed, answered fast: p99 %v), %d after (%d failed, the last %v after the database was back), the last quarter %d requests, %d failed",
			what, liveFailures.Load(), notReady.Load(), readyAgain.Load(), opened.Load(), closed.Load(),
			before.Requests, during.Requests, during.Errors, load.Round(outageP99), after.Requests, after.Errors, recovery.Round(time.Millisecond), tail.Requests, tail.Errors),
		Numbers: map[string]float64{"during_requests": float64(during.Requests), "during_errors": float64(during.Errors), "outage_p99_seconds": outageP99.Seconds(),
			"after_errors": float64(after.Errors), "tail_errors": float64(tail.Errors), "breaker_opened": float64(opened.Load()),
			"breaker_closed": float64(closed.Load()), "not_ready": float64(notReady.Load()), "recovery_seconds": recovery.Seconds()},
	}, move, nil
}

// adviseWhileOpen waits (at most down) for the breaker to open, lets the
// failures show for one more interval, and returns the advisor's first
// move then, "" if none fired.
func adviseWhileOpen(ctx context.Context, adv *observe.Advisor, opened *atomic.Int64, down, interval time.Duration) string {
	until := time.Now().Add(down)
	for opened.Load() == 0 && time.Now().Before(until) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if opened.Load() == 0 {
		return ""
	}
	time.Sleep(interval)
	rep, err := adv.Evaluate(ctx)
	if err != nil {
		return ""
	}
	return outageMove(stage.AdviceOf(rep))
}

// outageMove is the move for the outage: the dependency-down rule's when
// it fired (other rules can fire beside it, such as web-single on a busy
// machine, but the drill is about the database), else the first move.
func outageMove(a stage.Advice) string {
	for _, m := range a.Moves {
		if m.Rule == "dependency-down" {
			return m.String()
		}
	}
	if len(a.Moves) > 0 {
		return a.Moves[0].String()
	}
	return ""
}

// readShare is the share of reads (feed and user posts) among the
// requests of res.
func readShare(res *load.Result) float64 {
	var reads, all int
	for _, s := range res.Steps {
		for op, st := range s.ByOp {
			all += st.Requests
			if op == load.OpFeed || op == load.OpUserPosts {
				reads += st.Requests
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(reads) / float64(all)
}

func get(ctx context.Context, url string) int {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
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
