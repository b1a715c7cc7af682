// Package stage holds what every example's main shares beyond the
// application: the telemetry of a served process (observe's golden signals,
// runtime metrics and scale advisor, served as JSON at AdvisorPath), a
// client reading that advice between load steps, and the Report an example
// prints (and writes as JSON with -json) — the struct examples/ladder
// collects from every stage.
package stage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/observe"
)

// AdvisorPath is where a served process answers its advisor's evaluation.
// In production, serve it (and the Prometheus metrics) on an internal
// listener, not the public one.
const AdvisorPath = "/debug/advisor"

// Telemetry is a served process's observability: OTel SDK with runtime
// metrics, the HTTP golden-signals middleware, trace-correlated logs and
// the scale advisor reading them.
type Telemetry struct {
	Tel        *observe.Telemetry
	Middleware *observe.Middleware
	Advisor    *observe.Advisor
	Logger     *slog.Logger
	// Store, if set, is the process's counted store: Mount serves its
	// counts at StoreCountsPath.
	Store *app.CountingStore
}

// StoreCountsPath is where a served process answers its store's counts
// (app.StoreCounts as JSON), for the parent to count database queries per
// request across a load.
const StoreCountsPath = "/debug/store-counts"

// NewTelemetry sets up observe for a process named service. cpus is the
// number of cores the process may use (the advisor's utilisation
// denominator); logs go to logw as text at level (warnings by default:
// "log state changes, not every request").
func NewTelemetry(ctx context.Context, service string, cpus int, logw io.Writer, level slog.Level) (*Telemetry, error) {
	tel, err := observe.Setup(ctx, observe.SetupOptions{ServiceName: service, RuntimeMetrics: true})
	if err != nil {
		return nil, err
	}
	logger := slog.New(observe.NewLogHandler(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: level})))
	mw, err := observe.NewMiddleware(observe.MiddlewareOptions{MeterProvider: tel.MeterProvider, TracerProvider: tel.TracerProvider, Logger: logger})
	if err != nil {
		tel.Shutdown(ctx)
		return nil, err
	}
	adv, err := observe.NewAdvisor(tel.Reader, observe.AdvisorOptions{CPUs: cpus, Logger: logger})
	if err != nil {
		tel.Shutdown(ctx)
		return nil, err
	}
	return &Telemetry{Tel: tel, Middleware: mw, Advisor: adv, Logger: logger}, nil
}

// Shutdown flushes and stops the SDK.
func (t *Telemetry) Shutdown(ctx context.Context) error { return t.Tel.Shutdown(ctx) }

// Mount adds AdvisorPath and /metrics to mux.
func (t *Telemetry) Mount(mux *http.ServeMux) {
	mux.Handle("GET /metrics", t.Tel.Metrics)
	mux.HandleFunc("GET "+AdvisorPath, func(w http.ResponseWriter, r *http.Request) {
		rep, err := t.Advisor.Evaluate(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(AdviceOf(rep))
	})
	if t.Store != nil {
		mux.Handle("GET "+StoreCountsPath, StoreCountsHandler(t.Store))
	}
}

// StoreCountsHandler answers c's counts as JSON (serve it at
// StoreCountsPath; FetchStoreCounts reads it).
func StoreCountsHandler(c *app.CountingStore) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(c.Counts())
	})
}

// FetchStoreCounts asks the process at baseURL for its store's counts,
// within 3 s.
func FetchStoreCounts(ctx context.Context, baseURL string) (app.StoreCounts, error) {
	var c app.StoreCounts
	return c, getJSON(ctx, baseURL+StoreCountsPath, &c)
}

// Advice is an advisor's evaluation as JSON carries it.
type Advice struct {
	Signals map[string]float64 `json:"signals"`
	Moves   []Move             `json:"moves,omitempty"`
}

// Move is one fired rule: the bottleneck, the move and the numbers.
type Move struct {
	Rule       string   `json:"rule"`
	Bottleneck string   `json:"bottleneck"`
	Move       string   `json:"move"`
	Evidence   []string `json:"evidence"`
}

// String is the "move now because…" line.
func (m Move) String() string {
	return fmt.Sprintf("move now: %s, because %s (%s)", m.Move, m.Bottleneck, strings.Join(m.Evidence, ", "))
}

// AdviceOf converts an advisor report.
func AdviceOf(r observe.Report) Advice {
	a := Advice{Signals: r.Signals}
	for _, ad := range r.Advice {
		m := Move{Rule: ad.Rule, Bottleneck: ad.Bottleneck, Move: ad.Move}
		for _, e := range ad.Evidence {
			m.Evidence = append(m.Evidence, e.String())
		}
		a.Moves = append(a.Moves, m)
	}
	return a
}

// FetchAdvice asks the process at baseURL for an evaluation (rates since the
// previous one), within 3 s.
func FetchAdvice(ctx context.Context, baseURL string) (Advice, error) {
	var a Advice
	if err := getJSON(ctx, baseURL+AdvisorPath, &a); err != nil {
		return Advice{}, err
	}
	return a, nil
}

// getJSON GETs url into v within 3 s.
func getJSON(ctx context.Context, url string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("stage: GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("stage: GET %s: %w", url, err)
	}
	return nil
}

// StepSignals are the served process's own signals over one load step.
type StepSignals struct {
	Step  int     `json:"step"`
	CPU   float64 `json:"cpu"` // utilisation of the process's cores, 0–1 (observe's web.cpu)
	Moves []Move  `json:"moves,omitempty"`
}

// SignalsOf picks a step's signals from an advice.
func SignalsOf(step int, a Advice) StepSignals {
	return StepSignals{Step: step, CPU: a.Signals[observe.SigCPU], Moves: a.Moves}
}

// Drill is one fault drill's outcome.
type Drill struct {
	Name string        `json:"name"`
	At   time.Duration `json:"at"` // when the fault was injected, since the drill's load began
	// When is the wall-clock time of the fault (zero if not recorded): where
	// the ladder walk places the drill on the stage's timeline.
	When    time.Time          `json:"when,omitzero"`
	Holds   bool               `json:"holds"`
	Outcome string             `json:"outcome"` // one sentence with the numbers
	Numbers map[string]float64 `json:"numbers,omitempty"`
}

// Report is what an example measured: the ladder walk collects one per stage.
type Report struct {
	Stage   string            `json:"stage"` // "01-single-box"
	Title   string            `json:"title"`
	Ran     map[string]string `json:"ran"` // component → what ran ("sql" → "SQLite (embedded)")
	Load    *load.Result      `json:"load,omitempty"`
	Signals []StepSignals     `json:"signals,omitempty"`
	Drills  []Drill           `json:"drills,omitempty"`
	// Move is the advisor's "move now because…" line at the end of the
	// load, empty if no rule fired.
	Move  string   `json:"move,omitempty"`
	Notes []string `json:"notes,omitempty"`

	notesShown int // Notes already printed (PrintNotes)
	// Figures are the stage's numbers beyond the golden signals.
	Figures Figures `json:"figures,omitzero"`
}

// Figures are a stage's numbers beyond the load's golden signals, read from
// its own counters. A nil field is a number the stage does not have (no
// cache, no queue): printed "n/a", never 0.
type Figures struct {
	// DBQueriesPerRequest is the database queries (app.Count: writes,
	// reads, user lookups; pings excluded) per request of the stage's
	// rising load (setup included).
	DBQueriesPerRequest *float64 `json:"db_queries_per_request,omitempty"`
	// CacheHitRatio is hits / (hits + misses) of the stage's cache, 0–1.
	CacheHitRatio *float64 `json:"cache_hit_ratio,omitempty"`
	// QueueDepth is the most jobs waiting in the stage's queue at once.
	QueueDepth *int64 `json:"queue_depth,omitempty"`
	// QueueOldestAge is the longest a waiting job had waited (its peak).
	QueueOldestAge *time.Duration `json:"queue_oldest_age,omitempty"`
}

// Some returns a pointer to v, for Figures' fields.
func Some[T any](v T) *T { return &v }

// PerRequest is queries / requests as a Figures value (nil if no request).
func PerRequest(queries int64, requests int) *float64 {
	if requests <= 0 {
		return nil
	}
	return Some(float64(queries) / float64(requests))
}

// Requests is every request of a load result, its setup included.
func Requests(r *load.Result) int {
	if r == nil {
		return 0
	}
	n := r.Setup.Requests
	for _, s := range r.Steps {
		n += s.Requests
	}
	return n
}

// Holds reports whether every drill held.
func (r *Report) Holds() bool {
	for _, d := range r.Drills {
		if !d.Holds {
			return false
		}
	}
	return true
}

// PrintHeader prints the stage's title and what ran.
func (r *Report) PrintHeader(w io.Writer) {
	fmt.Fprintf(w, "== %s: %s\n", r.Stage, r.Title)
	keys := make([]string, 0, len(r.Ran))
	for k := range r.Ran {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "   %-8s %s\n", k+":", r.Ran[k])
	}
}

// PrintLoad prints the golden signals per step, with the served process's
// CPU when Signals has it.
func (r *Report) PrintLoad(w io.Writer) {
	if r.Load == nil {
		return
	}
	cpu := map[int]float64{}
	for _, s := range r.Signals {
		cpu[s.Step] = s.CPU
	}
	fmt.Fprintf(w, "   setup: %d signups, p50 %v, p99 %v, errors %s\n", r.Load.Setup.Requests, load.Round(r.Load.Setup.P50), load.Round(r.Load.Setup.P99), load.Percent(r.Load.Setup.ErrorRate))
	fmt.Fprintf(w, "   %4s %7s %8s %8s %9s %9s %8s %6s  %s\n", "step", "workers", "requests", "req/s", "p50", "p99", "errors", "cpu", "failures")
	for _, s := range r.Load.Steps {
		c := "-"
		if v, ok := cpu[s.Step]; ok {
			c = fmt.Sprintf("%.0f%%", 100*v)
		}
		fmt.Fprintf(w, "   %4d %7d %8d %8.0f %9v %9v %8s %6s  %s\n", s.Step, s.Workers, s.Requests, s.Throughput,
			load.Round(s.P50), load.Round(s.P99), load.Percent(s.ErrorRate), c, failuresOf(s.Failures))
	}
}

func failuresOf(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// PrintDrills prints each drill's outcome.
func (r *Report) PrintDrills(w io.Writer) {
	for _, d := range r.Drills {
		mark := "HOLDS"
		if !d.Holds {
			mark = "FAILS"
		}
		fmt.Fprintf(w, "   drill %-28s %s  %s\n", d.Name+":", mark, d.Outcome)
	}
}

// Print prints the whole report.
func (r *Report) Print(w io.Writer) {
	r.PrintHeader(w)
	r.PrintLoad(w)
	r.PrintDrills(w)
	if r.Move != "" {
		fmt.Fprintf(w, "   advisor: %s\n", r.Move)
	}
	if r.Figures != (Figures{}) {
		fmt.Fprintf(w, "   figures: %s\n", r.Figures)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
}

// String prints the figures in one line, "n/a" for those the stage has not.
func (f Figures) String() string {
	return fmt.Sprintf("db queries/request %s, cache hit ratio %s, queue depth %s, queue oldest age %s",
		FormatFloat(f.DBQueriesPerRequest, 2), FormatPercent(f.CacheHitRatio), FormatInt(f.QueueDepth), FormatDuration(f.QueueOldestAge))
}

// FormatFloat formats *v with prec decimals, "n/a" for nil.
func FormatFloat(v *float64, prec int) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

// FormatPercent formats a ratio *v as a percentage, "n/a" for nil.
func FormatPercent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return load.Percent(*v)
}

// FormatInt formats *v, "n/a" for nil.
func FormatInt(v *int64) string {
	if v == nil {
		return "n/a"
	}
	return strconv.FormatInt(*v, 10)
}

// FormatDuration formats *v rounded for reading, "n/a" for nil.
func FormatDuration(v *time.Duration) string {
	if v == nil {
		return "n/a"
	}
	return load.Round(*v).String()
}

// PrintNotes prints the notes not printed yet.
func (r *Report) PrintNotes(w io.Writer) {
	for _, n := range r.Notes[min(r.notesShown, len(r.Notes)):] {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
	r.notesShown = len(r.Notes)
}

// Finish ends an example's walk: it prints the advisor's line (if a rule
// fired), the notes not printed yet and then, if not empty, the line next
// (what the following stage changes); writes the report as JSON to
// jsonPath (if not empty); and returns an error if a drill did not hold.
func (r *Report) Finish(w io.Writer, next, jsonPath string) error {
	if r.Move != "" {
		fmt.Fprintf(w, "   advisor: %s\n", r.Move)
	}
	r.PrintNotes(w)
	if next != "" {
		fmt.Fprintf(w, "   %s\n", next)
	}
	if jsonPath != "" {
		if err := r.WriteJSON(jsonPath); err != nil {
			return err
		}
	}
	if !r.Holds() {
		return errors.New("a drill did not hold")
	}
	return nil
}

// CheckOutput reports why WriteJSON could not write path (its directory
// missing, or path a directory), so that a run can refuse a bad -json before
// it runs instead of losing its report after. "" and "-" are fine.
func CheckOutput(path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", filepath.Dir(path))
	}
	return nil
}

// WriteJSON writes the report to path ("-" is stdout).
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if path == "-" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// ServeChild serves h (with the telemetry's /metrics and AdvisorPath when
// t is not nil) as a child process of package proc: on the address the
// parent gave, announced to it, until ctx ends (SIGTERM in main's
// signal.NotifyContext), then drains in-flight requests.
func ServeChild(ctx context.Context, h http.Handler, t *Telemetry) error {
	mux := http.NewServeMux()
	if t != nil {
		t.Mount(mux)
	}
	mux.Handle("/", h)
	ln, err := proc.ChildListen()
	if err != nil {
		return err
	}
	return proc.Serve(ctx, ln, mux)
}

// Main is an example's main: it runs run with the command line, stdout and
// stderr, under a context cancelled by Ctrl-C (SIGINT) or SIGTERM, and exits
// with run's code, or with 128+signal (130 for Ctrl-C, 143 for SIGTERM) when
// a signal stopped it, as a shell reports an interrupted command.
func Main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	os.Exit(main(run, os.Args[1:], os.Stdout, os.Stderr))
}

func main(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int, args []string, stdout, stderr io.Writer) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var got atomic.Value
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sigs:
			got.Store(s)
			cancel(fmt.Errorf("stage: %v", s))
		case <-done:
		}
	}()
	code := run(ctx, args, stdout, stderr)
	if s, ok := got.Load().(os.Signal); ok {
		if n, ok := s.(syscall.Signal); ok {
			return 128 + int(n)
		}
		return 130
	}
	return code
}
