package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

type config struct {
	profile
	only []stageDef // -stage; none runs every stage
	out  string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("ladder", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config{profile: defaultProfile()}
	var only string
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests): every stage with -quick")
	fs.StringVar(&only, "stage", "", "run one stage: its number (3) or name (03-lb-replicas); a comma-separated list runs several")
	fs.StringVar(&c.out, "out", "", "the report directory (default: a new one under the system's temporary directory)")
	fs.StringVar(&c.pg, "pg", os.Getenv("LADDER_PG_PRIMARY"), "PostgreSQL DSN for the stages that take one (default $LADDER_PG_PRIMARY; 03 also needs $LADDER_PG_REPLICA); empty runs SQLite")
	fs.StringVar(&c.redis, "redis", os.Getenv("LADDER_REDIS_ADDR"), "Redis host:port for the stages that take one (default $LADDER_REDIS_ADDR); empty runs an embedded miniredis")
	fs.DurationVar(&c.step, "step", c.step, "every stage's load step (not with -quick)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if only != "" {
		for _, s := range strings.Split(only, ",") {
			st, err := findStage(s)
			if err != nil {
				return c, fmt.Errorf("-stage: %w", err)
			}
			c.only = append(c.only, st)
		}
	}
	if c.step < 200*time.Millisecond || c.step > time.Minute {
		return c, fmt.Errorf("-step %v: want 200ms to 1m", c.step)
	}
	c.pgReplica = os.Getenv("LADDER_PG_REPLICA")
	return c, nil
}

// prepareOut makes the report directory and checks it is writable, before
// any stage runs.
func prepareOut(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "ladder-report-*")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return "", err
	}
	f.Close()
	os.Remove(f.Name())
	return filepath.Abs(dir)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if proc.Role() != "" {
		return serveChild(ctx, args, stdout, stderr)
	}
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "ladder:", err)
		return 2
	}
	out, err := prepareOut(c.out)
	if err != nil {
		fmt.Fprintln(stderr, "ladder: -out:", err)
		return 2
	}
	c.out = out
	return walk(ctx, c, stdout, stderr)
}

// serveChild is this binary started as a stage's child process: the stage
// is named by EnvStage, the role by proc.EnvRole.
func serveChild(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	name := os.Getenv(EnvStage)
	st, err := findStage(name)
	if err != nil || name == "" {
		fmt.Fprintf(stderr, "ladder: child role %q without a known stage in %s (%q)\n", proc.Role(), EnvStage, name)
		return 2
	}
	return st.run(ctx, args, stdout, stderr)
}

// result is one stage's run as the ladder saw it.
type result struct {
	def      stageDef
	report   *stage.Report // nil if the stage wrote none
	code     int           // its exit code
	began    time.Time
	elapsed  time.Duration
	args     []string
	log      string // path
	jsonPath string
	err      string // why there is no report
}

// held reports whether the stage ran and every drill held.
func (r *result) held() bool { return r.code == 0 && r.report != nil && r.report.Holds() }

func walk(ctx context.Context, c config, stdout, stderr io.Writer) int {
	todo := stages
	if c.only != nil {
		todo = c.only
	}
	mode := fmt.Sprintf("default profile: every load step %v, PBKDF2 %d iterations", c.step, c.kdf)
	if c.quick {
		mode = "-quick: every stage with -quick"
	}
	fmt.Fprintf(stdout, "ladder: %d stage(s), %s; logs and report in %s\n", len(todo), mode, c.out)
	begin := time.Now()
	prog := newProgress(stdout, len(todo))
	var results []*result
	for i, st := range todo {
		if ctx.Err() != nil {
			break
		}
		r := runStage(ctx, c, st, prog, i+1)
		results = append(results, r)
		printStage(stdout, r)
	}
	interrupted := ctx.Err() != nil
	total := time.Since(begin)
	printSummary(stdout, results, total)
	report := filepath.Join(c.out, "report.html")
	if err := writeHTML(report, c, results, begin, total); err != nil {
		fmt.Fprintln(stderr, "ladder: report:", err)
		return 1
	}
	fmt.Fprintf(stdout, "report: %s\n", report)
	ok := !interrupted && len(results) == len(todo)
	for _, r := range results {
		ok = ok && r.held()
	}
	switch {
	case interrupted:
		fmt.Fprintf(stdout, "ladder: interrupted after %v; %d of %d stage(s) ran\n", total.Round(time.Second), len(results), len(todo))
		return 1
	case !ok:
		fmt.Fprintf(stdout, "ladder: a stage failed or a drill did not hold (%v); see its log\n", total.Round(time.Second))
		return 1
	}
	fmt.Fprintf(stdout, "ladder: every drill held; %d stage(s) in %v. Read each stage's advisor line and drills: the failure one stage shows is what the next one removes.\n", len(results), total.Round(time.Second))
	return 0
}

// runStage runs one stage in this process, its output to its log, and
// reads the report it wrote.
func runStage(ctx context.Context, c config, st stageDef, prog *progress, k int) *result {
	r := &result{def: st, log: filepath.Join(c.out, st.name+".log"), jsonPath: filepath.Join(c.out, st.name+".json")}
	r.args = append(st.args(c.profile), "-json", r.jsonPath)
	os.Remove(r.jsonPath) // a stale report from an earlier run into the same -out must not pass for this one
	logf, err := os.Create(r.log)
	if err != nil {
		r.code, r.err = 1, err.Error()
		return r
	}
	defer logf.Close()
	logw := &lockedWriter{w: logf}
	so, se := &lineWriter{w: logw}, &lineWriter{w: logw} // the last line of each: the phase, the error
	fmt.Fprintf(logw, "$ %s %s (run by examples/ladder)\n", st.name, shellJoin(redactArgs(r.args)))

	os.Setenv(EnvStage, st.name) // the stage's children find it here
	defer os.Unsetenv(EnvStage)
	r.began = time.Now()
	stop := prog.start(k, st.name, r.began, so.last)
	r.code = st.run(ctx, r.args, so, se)
	r.elapsed = time.Since(r.began)
	r.report, err = readReport(r.jsonPath)
	switch {
	case err != nil && r.code == 0:
		r.code, r.err = 1, "no report: "+err.Error()
	case err != nil:
		r.err = fmt.Sprintf("exit %d: %s", r.code, se.last())
	case r.code != 0:
		r.err = fmt.Sprintf("exit %d", r.code)
	}
	stop(r)
	return r
}

func readReport(path string) (*stage.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep stage.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &rep, nil
}
