package main

import (
	_ "embed"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/stage"
)

//go:embed report.html.tmpl
var reportTmpl string

var tmpl = template.Must(template.New("report").Parse(reportTmpl))

// page is what the report template shows: everything from the stages'
// reports, nothing typed in.
type page struct {
	Generated, Mode, Total, Out string
	OK                          bool
	Summary                     []summaryRow
	Moves                       []kv
	Throughput, P99             barChart // one bar per stage: its busiest step
	Timeline                    timeline
	Stages                      []pageStage
}

type kv struct{ K, V string }

type pageStage struct {
	ID, Name, Title, Elapsed, Err string
	OK                            bool
	Ran                           []kv
	Setup                         string
	Steps                         []stepRow
	Throughput, P99               barChart // one bar per load step
	Figures                       []kv
	Drills                        []drillRow
	Move                          string
	Notes                         []string
	Log, JSON, Args               string
}

type stepRow struct {
	Step, Workers, Requests, Throughput, P50, P99, Errors, CPU, Failures string
}

type drillRow struct {
	N                 int
	Name, Outcome, At string
	Holds             bool
}

// barChart is an SVG bar chart laid out here; the template only draws it.
type barChart struct {
	Title, Unit, Class string
	W, H, Base         float64 // size; y of the baseline
	Bars               []bar
	Empty              bool
}

type bar struct {
	X, Y, W, H   float64
	Value, Label string
	Tip          string
}

const (
	chartW, chartH = 420.0, 190.0
	chartTop       = 36.0
	chartBottom    = 36.0
)

// bars lays out values (one per label) scaled to the largest.
func bars(title, unit, class string, labels []string, values []float64, format func(float64) string) barChart {
	c := barChart{Title: title, Unit: unit, Class: class, W: chartW, H: chartH, Base: chartH - chartBottom}
	if len(values) == 0 {
		c.Empty = true
		return c
	}
	top := slices.Max(values)
	if top <= 0 || math.IsNaN(top) {
		top = 1
	}
	slot := (chartW - 20) / float64(len(values))
	w := math.Min(slot*0.7, 60)
	for i, v := range values {
		h := (c.Base - chartTop) * v / top
		x := 10 + slot*float64(i) + (slot-w)/2
		c.Bars = append(c.Bars, bar{X: x, Y: c.Base - h, W: w, H: h, Value: format(v), Label: labels[i],
			Tip: fmt.Sprintf("%s: %s %s", labels[i], format(v), unit)})
	}
	return c
}

func fmtRate(v float64) string { return fmt.Sprintf("%.0f", v) }
func fmtMs(v float64) string {
	return load.Round(time.Duration(v * float64(time.Millisecond))).String()
}

// timeline places every stage's run on one time axis: the stage's span,
// its rising load, and each drill's fault as a marker.
type timeline struct {
	W, H, Left, PlotW float64
	Rows              []tlRow
	Ticks             []tlTick
	AxisY             float64
}

type tlRow struct {
	Name              string
	Y, SpanW          float64
	LoadX, LoadW      float64
	HasLoad           bool
	Marks             []tlMark
	TextY, BarY, BarH float64
}

type tlMark struct {
	N     int
	X     float64
	Holds bool
	Tip   string
}

type tlTick struct {
	X     float64
	Label string
}

func buildTimeline(results []*result) timeline {
	const rowH, left, plotW = 38.0, 190.0, 700.0
	t := timeline{W: left + plotW + 30, Left: left, PlotW: plotW}
	longest := time.Second
	for _, r := range results {
		longest = max(longest, r.elapsed)
	}
	x := func(d time.Duration) float64 { return left + plotW*d.Seconds()/longest.Seconds() }
	n := 0
	for i, r := range results {
		y := 10 + rowH*float64(i)
		row := tlRow{Name: r.def.name, Y: y, TextY: y + rowH/2 + 4, BarY: y + 8, BarH: rowH - 16, SpanW: x(r.elapsed) - left}
		if rep := r.report; rep != nil {
			if rep.Load != nil && !rep.Load.Start.IsZero() {
				from := rep.Load.Start.Sub(r.began)
				row.HasLoad, row.LoadX, row.LoadW = true, x(from), x(from+rep.Load.Elapsed)-x(from)
			}
			for _, d := range rep.Drills {
				n++
				if d.When.IsZero() {
					continue // placed only where the stage recorded when
				}
				mark := "HOLDS"
				if !d.Holds {
					mark = "FAILS"
				}
				at := d.When.Sub(r.began)
				row.Marks = append(row.Marks, tlMark{N: n, X: x(at), Holds: d.Holds, Tip: fmt.Sprintf("%d. %s at %.1fs: %s", n, d.Name, at.Seconds(), mark)})
			}
		}
		t.Rows = append(t.Rows, row)
	}
	t.AxisY = 10 + rowH*float64(len(results)) + 4
	t.H = t.AxisY + 24
	step := niceStep(longest)
	for d := time.Duration(0); d <= longest; d += step {
		t.Ticks = append(t.Ticks, tlTick{X: x(d), Label: fmt.Sprintf("%gs", d.Seconds())})
	}
	return t
}

// niceStep picks a tick interval giving 5–12 ticks.
func niceStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute} {
		if span/s <= 12 {
			return s
		}
	}
	return 2 * time.Minute
}

func buildPage(c config, results []*result, begin time.Time, total time.Duration) page {
	p := page{Generated: begin.Format("2006-01-02 15:04:05 MST"), Total: total.Round(100 * time.Millisecond).String(), Out: c.out, OK: len(results) > 0}
	p.Mode = fmt.Sprintf("default profile: every load step %v, PBKDF2 %d iterations", c.step, c.kdf)
	if c.quick {
		p.Mode = "-quick: every stage with -quick"
	}
	var names []string
	var tput, p99 []float64
	n := 0
	for _, r := range results {
		p.OK = p.OK && r.held()
		p.Summary = append(p.Summary, summarize(r))
		ps := pageStage{ID: "s" + r.def.name[:2], Name: r.def.name, Elapsed: r.elapsed.Round(100 * time.Millisecond).String(), OK: r.held(), Err: r.err,
			Log: filepath.Base(r.log), JSON: filepath.Base(r.jsonPath), Args: shellJoin(redactArgs(r.args))}
		rep := r.report
		if rep == nil {
			p.Stages = append(p.Stages, ps)
			continue
		}
		ps.Title, ps.Move, ps.Notes = rep.Title, rep.Move, rep.Notes
		if rep.Move != "" {
			p.Moves = append(p.Moves, kv{r.def.name, rep.Move})
		}
		for _, k := range sortedKeys(rep.Ran) {
			ps.Ran = append(ps.Ran, kv{k, rep.Ran[k]})
		}
		if best, ok := peak(rep); ok {
			names = append(names, r.def.name[:2])
			tput = append(tput, best.Throughput)
			p99 = append(p99, float64(best.P99)/float64(time.Millisecond))
		}
		if rep.Load != nil {
			cpu := map[int]float64{}
			for _, s := range rep.Signals {
				cpu[s.Step] = s.CPU
			}
			ps.Setup = fmt.Sprintf("%d signups before the steps, p50 %v, p99 %v, errors %s", rep.Load.Setup.Requests, load.Round(rep.Load.Setup.P50), load.Round(rep.Load.Setup.P99), load.Percent(rep.Load.Setup.ErrorRate))
			var labels []string
			var tv, pv []float64
			for _, s := range rep.Load.Steps {
				c := "–"
				if v, ok := cpu[s.Step]; ok {
					c = fmt.Sprintf("%.0f %%", 100*v)
				}
				ps.Steps = append(ps.Steps, stepRow{Step: fmt.Sprint(s.Step), Workers: fmt.Sprint(s.Workers), Requests: fmt.Sprint(s.Requests),
					Throughput: fmtRate(s.Throughput), P50: load.Round(s.P50).String(), P99: load.Round(s.P99).String(), Errors: load.Percent(s.ErrorRate), CPU: c, Failures: failureText(s.Failures)})
				labels = append(labels, fmt.Sprintf("%d users", s.Workers))
				tv = append(tv, s.Throughput)
				pv = append(pv, float64(s.P99)/float64(time.Millisecond))
			}
			ps.Throughput = bars("throughput per step", "req/s", "tput", labels, tv, fmtRate)
			ps.P99 = bars("p99 latency per step", "", "p99", labels, pv, fmtMs)
		}
		f := rep.Figures
		ps.Figures = []kv{
			{"database queries per request", stage.FormatFloat(f.DBQueriesPerRequest, 2)},
			{"cache hit ratio", stage.FormatPercent(f.CacheHitRatio)},
			{"queue depth (peak waiting)", stage.FormatInt(f.QueueDepth)},
			{"queue oldest job (peak age)", stage.FormatDuration(f.QueueOldestAge)},
		}
		for _, d := range rep.Drills {
			n++
			at := "–"
			if !d.When.IsZero() {
				at = fmt.Sprintf("%.1f s", d.When.Sub(r.began).Seconds())
			}
			ps.Drills = append(ps.Drills, drillRow{N: n, Name: d.Name, Outcome: d.Outcome, Holds: d.Holds, At: at})
		}
		p.Stages = append(p.Stages, ps)
	}
	p.Throughput = bars("throughput of each stage's busiest step", "req/s", "tput", names, tput, fmtRate)
	p.P99 = bars("p99 latency of that step", "", "p99", names, p99, fmtMs)
	p.Timeline = buildTimeline(results)
	return p
}

// shellJoin prints args as a shell would take them back ("" for an empty one).
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = a
		if a == "" || strings.ContainsAny(a, " \t\"'$\\") {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

func failureText(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// writeHTML renders the report to path (through a temporary file, so a
// failed render leaves no half page).
func writeHTML(path string, c config, results []*result, begin time.Time, total time.Duration) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".report-*.html")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := tmpl.Execute(f, buildPage(c, results, begin, total)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
