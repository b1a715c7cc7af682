// Package singlebox is example 01-single-box, the first rung: the web server, the database
// (SQLite), the static assets and the logs in one process, "the box". It
// runs a rising load against the box and prints the golden signals per step
// (throughput, p50/p99, errors, the box's CPU from its own runtime metrics),
// until the box saturates: throughput stops rising, p99 climbs and the scale
// advisor says to move. Then it shows the single point of failure: the box
// is SIGKILLed under load and every request fails until it is restarted.
//
//	go run ./examples/01-single-box          # about 30 s
//	go run ./examples/01-single-box -quick   # a few seconds
//
// The box runs as a child process of this program (so that it can be
// killed); this process is only the users and the operator.
package singlebox

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// Run runs the example (or, in a child process, its role) with the
// command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

type config struct {
	quick    bool
	cpus     int
	kdfIter  int
	workers  []int
	step     time.Duration
	maxReqs  int
	dbPath   string
	jsonPath string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("01-single-box", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var workers string
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests): fewer, shorter steps and a cheap password hash")
	fs.IntVar(&c.cpus, "cpus", 1, "cores the box may use (GOMAXPROCS)")
	fs.IntVar(&c.kdfIter, "kdf-iter", 0, "PBKDF2 iterations per password hash (0: 600,000; -quick: 1,000)")
	fs.StringVar(&workers, "workers", "", "comma-separated concurrent users per step (default 1,2,4,8,16,32; -quick 1,4,16)")
	fs.DurationVar(&c.step, "step", 0, "duration of each step (default 3s; -quick 600ms)")
	fs.IntVar(&c.maxReqs, "max-requests", 50_000, "bound on the requests of one step")
	fs.StringVar(&c.dbPath, "db", "", "the SQLite file (default: in a temporary directory, removed at the end)")
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
	if workers == "" {
		workers = "1,2,4,8,16,32"
		if c.quick {
			workers = "1,4,16"
		}
	}
	for _, w := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("-workers %q: want numbers from 1 to 1000, comma-separated", workers)
		}
		c.workers = append(c.workers, n)
	}
	if c.step == 0 {
		c.step = 3 * time.Second
		if c.quick {
			c.step = 600 * time.Millisecond
		}
	}
	switch {
	case c.step < 100*time.Millisecond || c.step > time.Minute:
		return c, fmt.Errorf("-step %v: want 100ms to 1m", c.step)
	case c.cpus < 1 || c.cpus > runtime.NumCPU():
		return c, fmt.Errorf("-cpus %d: want 1 to %d", c.cpus, runtime.NumCPU())
	case c.maxReqs < 1 || c.maxReqs > 10_000_000:
		return c, fmt.Errorf("-max-requests %d: want 1 to 10,000,000", c.maxReqs)
	case c.kdfIter != 0 && (c.kdfIter < app.MinKDFIterations || c.kdfIter > 10*app.DefaultKDFIterations): // above, one hash takes seconds: the load measures nothing but the KDF
		return c, fmt.Errorf("-kdf-iter %d: want 0 or %d to %d", c.kdfIter, app.MinKDFIterations, 10*app.DefaultKDFIterations)
	}
	if c.kdfIter == 0 {
		c.kdfIter = app.DefaultKDFIterations
		if c.quick {
			c.kdfIter = app.MinKDFIterations
		}
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "01-single-box:", err)
		return 2
	}
	if proc.Role() == "box" {
		return serveBox(ctx, c, stderr)
	}
	if err := walk(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "01-single-box:", err)
		return 1
	}
	return 0
}

// serveBox is the box: web + SQLite + assets + logs in one process.
func serveBox(ctx context.Context, c config, stderr io.Writer) int {
	fail := func(err error) int { fmt.Fprintln(stderr, "box:", err); return 1 }
	tel, err := stage.NewTelemetry(ctx, "01-single-box", c.cpus, stderr, slog.LevelWarn)
	if err != nil {
		return fail(err)
	}
	defer tel.Shutdown(context.Background())
	db, err := app.OpenSQLite(c.dbPath)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	sqlStore, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		return fail(err)
	}
	if err := sqlStore.Migrate(ctx); err != nil {
		return fail(err)
	}
	store := app.Count(sqlStore) // the parent reads its counts: queries per request
	tel.Store = store
	mailer, err := app.NewMailer(app.MailerOptions{Latency: 20 * time.Millisecond})
	if err != nil {
		return fail(err)
	}
	a, err := app.New(app.Config{
		Store:          store,
		SessionOptions: sessionOptions,
		Mailer:         mailer, // the welcome mail is sent inside the signup request
		Observe:        tel.Middleware,
		KDFIterations:  c.kdfIter,
		Logger:         tel.Logger,
	})
	if err != nil {
		return fail(err)
	}
	defer a.Close()
	if err := stage.ServeChild(ctx, a, tel); err != nil {
		return fail(err)
	}
	return 0
}

// walk starts the box, loads it step by step, then kills it under load.
func walk(ctx context.Context, c config, stdout, stderr io.Writer) error {
	if c.dbPath == "" {
		dir, err := stage.TempDir("01") // removes what SIGKILLed runs left
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
	box, err := group.Start(ctx, proc.Spec{
		Name: "box", Role: "box",
		Args: []string{"-db", c.dbPath, "-kdf-iter", strconv.Itoa(c.kdfIter), "-cpus", strconv.Itoa(c.cpus)},
		Env:  []string{"GOMAXPROCS=" + strconv.Itoa(c.cpus)},
	})
	if err != nil {
		return err
	}
	rep := &stage.Report{
		Stage: "01-single-box",
		Title: "web, database, assets and logs in one process",
		Ran: map[string]string{
			"box": fmt.Sprintf("pid %d on %s, %d core(s) (GOMAXPROCS)", box.Pid(), box.URL(), c.cpus),
			"sql": "SQLite (modernc.org/sqlite, embedded) at " + c.dbPath,
			"kdf": fmt.Sprintf("PBKDF2-HMAC-SHA256, %d iterations", c.kdfIter),
		},
	}
	rep.PrintHeader(stdout)

	// 1. Rising load: where does the box saturate?
	var steps []load.Step
	for _, w := range c.workers {
		steps = append(steps, load.Step{Workers: w, Duration: c.step, MaxRequests: c.maxReqs})
	}
	countsBefore, err := stage.FetchStoreCounts(ctx, box.URL())
	if err != nil {
		return err
	}
	res, err := load.Run(ctx, load.Options{
		BaseURL: box.URL(), Steps: steps, Users: 16,
		BeforeStep: func(int, load.Step) { _, _ = stage.FetchAdvice(ctx, box.URL()) }, // start the box's reading here
		OnStep: func(s load.StepResult) {
			adv, err := stage.FetchAdvice(ctx, box.URL())
			if err != nil {
				fmt.Fprintln(stderr, "advisor:", err)
				return
			}
			sig := stage.SignalsOf(s.Step, adv)
			rep.Signals = append(rep.Signals, sig)
			fmt.Fprintf(stdout, "   … step %d: %d users, %.0f req/s, p99 %v, cpu %.0f%%\n", s.Step, s.Workers, s.Throughput, load.Round(s.P99), 100*sig.CPU)
		},
	})
	if err != nil {
		return err
	}
	rep.Load = res
	if counts, err := stage.FetchStoreCounts(ctx, box.URL()); err == nil {
		rep.Figures.DBQueriesPerRequest = stage.PerRequest(counts.Queries()-countsBefore.Queries(), stage.Requests(res))
	}
	rep.PrintLoad(stdout)
	if note := moveOf(rep, c.cpus); note != "" {
		rep.Notes = append(rep.Notes, note)
	}

	// 2. The single point of failure: kill the box under load.
	d, err := killDrill(ctx, box, c)
	if err != nil {
		return err
	}
	rep.Drills = append(rep.Drills, d)
	rep.PrintDrills(stdout)
	return rep.Finish(stdout, "next: 02-split-web-db moves the database out of the box, so the web tier cannot starve it.", c.jsonPath)
}

var sessionOptions = app.LoopbackSessionOptions()

// moveOf sets rep.Move to the advisor's line of the last step a rule fired
// in; if none fired, it returns a note saying what the box's own numbers
// showed instead, so the report never fakes a move.
func moveOf(rep *stage.Report, cpus int) (note string) {
	var peak stage.StepSignals
	for _, s := range rep.Signals {
		if len(s.Moves) > 0 {
			rep.Move = s.Moves[0].String()
		}
		if s.CPU >= peak.CPU {
			peak = s
		}
	}
	if rep.Move != "" || rep.Load == nil {
		return ""
	}
	note = fmt.Sprintf("no advisor rule fired: the box's CPU peaked at %s of its %d core(s) (step %d), below the web-single rule's 80 %%",
		load.Percent(peak.CPU), cpus, peak.Step)
	if st := rep.Load.Steps; len(st) >= 2 {
		a, b := st[len(st)-2], st[len(st)-1]
		if b.Workers > a.Workers && b.Throughput < 1.1*a.Throughput {
			note += fmt.Sprintf("; yet throughput stopped rising (%.0f → %.0f req/s from %d to %d users) while p99 went %v → %v: the box is saturated by something other than its own CPU (the load generator shares this machine's cores)",
				a.Throughput, b.Throughput, a.Workers, b.Workers, load.Round(a.P99), load.Round(b.P99))
		} else {
			note += " and its throughput was still rising: raise -workers"
		}
	}
	return note
}

// killDrill SIGKILLs the box halfway through a load step, counts what
// failed before and after, and restarts it on the same port and file.
func killDrill(ctx context.Context, box *proc.Child, c config) (stage.Drill, error) {
	dur := 4 * c.step
	bg := load.Start(ctx, load.Options{
		BaseURL: box.URL(), Users: 4, Interval: 50 * time.Millisecond, Timeout: time.Second,
		Steps: []load.Step{{Workers: 4, Duration: dur, MaxRequests: c.maxReqs}},
	})
	if err := bg.WaitStarted(); err != nil {
		bg.Wait()
		return stage.Drill{}, fmt.Errorf("kill drill: %w", err)
	}
	time.Sleep(dur / 3)
	killed := time.Now()
	if err := box.Kill(); err != nil {
		bg.Wait()
		return stage.Drill{}, err
	}
	res, err := bg.Wait()
	if err != nil {
		return stage.Drill{}, fmt.Errorf("kill drill: %w", err)
	}
	restartBegin := time.Now()
	if err := box.Restart(ctx); err != nil {
		return stage.Drill{}, fmt.Errorf("kill drill: restart: %w", err)
	}
	restart := time.Since(restartBegin)
	posts, err := feedLen(ctx, box.URL())
	if err != nil {
		return stage.Drill{}, fmt.Errorf("kill drill: after restart: %w", err)
	}
	// Requests started in the last 250 ms before the kill may be in flight
	// when it lands: they are counted on neither side.
	killAt := res.Since(killed)
	before, after := res.Window(0, killAt-250*time.Millisecond), res.Window(killAt, 0)
	return stage.Drill{
		Name: "kill the box under load",
		At:   killAt,
		When: killed,
		// The drill shows the failure: it "holds" when the box served
		// before the kill and nothing was served after it.
		Holds: before.Requests > 0 && before.Errors == 0 && after.Requests > 0 && after.Errors == after.Requests && posts > 0,
		Outcome: fmt.Sprintf("before the kill %d requests, %d failed; after it %d requests, %d failed (%s): everything is down until a restart by hand (%v here; the SQLite file kept the posts: feed has %d)",
			before.Requests, before.Errors, after.Requests, after.Errors, load.Percent(ratio(after.Errors, after.Requests)), restart.Round(time.Millisecond), posts),
		Numbers: map[string]float64{"before_requests": float64(before.Requests), "before_errors": float64(before.Errors),
			"after_requests": float64(after.Requests), "after_errors": float64(after.Errors), "restart_seconds": restart.Seconds()},
	}, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// feedLen reads the feed once.
func feedLen(ctx context.Context, base string) (int, error) {
	posts, err := app.ReadFeed(ctx, http.DefaultClient, base, app.MaxFeedLimit)
	return len(posts), err
}
