package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// printStage prints a stage's report as it wrote it (its JSON), with how
// long it ran and where its log is.
func printStage(w io.Writer, r *result) {
	if r.report == nil {
		fmt.Fprintf(w, "== %s: FAILED (%s) after %v; log: %s\n\n", r.def.name, r.err, r.elapsed.Round(100*time.Millisecond), r.log)
		return
	}
	r.report.Print(w)
	if r.report.Move == "" {
		fmt.Fprintln(w, "   advisor: no rule fired")
	}
	if r.report.Figures == (stage.Figures{}) {
		fmt.Fprintf(w, "   figures: %s\n", r.report.Figures)
	}
	status := "every drill held"
	if !r.held() {
		status = "FAILED: " + r.err
		if r.err == "" {
			status = "FAILED: a drill did not hold"
		}
	}
	fmt.Fprintf(w, "   %s in %v; log: %s\n\n", status, r.elapsed.Round(100*time.Millisecond), r.log)
}

// peak is the load step with the highest throughput: where the summary
// reads a stage's throughput and latency.
func peak(rep *stage.Report) (load.StepResult, bool) {
	if rep == nil || rep.Load == nil || len(rep.Load.Steps) == 0 {
		return load.StepResult{}, false
	}
	best := rep.Load.Steps[0]
	for _, s := range rep.Load.Steps[1:] {
		if s.Throughput > best.Throughput {
			best = s
		}
	}
	return best, true
}

// drillCount is "held/all".
func drillCount(rep *stage.Report) (held, all int) {
	if rep == nil {
		return 0, 0
	}
	for _, d := range rep.Drills {
		if d.Holds {
			held++
		}
	}
	return held, len(rep.Drills)
}

// summaryRow is one stage's line of the summary, as strings (the terminal
// and the HTML report print the same).
type summaryRow struct {
	Stage, Time, Throughput, P50, P99, ErrorRate string
	DBQ, CacheHit, QueueDepth, QueueAge, Drills  string
	OK                                           bool
}

func summarize(r *result) summaryRow {
	row := summaryRow{Stage: r.def.name, Time: r.elapsed.Round(100 * time.Millisecond).String(), OK: r.held(),
		Throughput: "n/a", P50: "n/a", P99: "n/a", ErrorRate: "n/a", DBQ: "n/a", CacheHit: "n/a", QueueDepth: "n/a", QueueAge: "n/a", Drills: "FAILED"}
	rep := r.report
	if rep == nil {
		return row
	}
	if p, ok := peak(rep); ok {
		row.Throughput = fmt.Sprintf("%.0f", p.Throughput)
		row.P50, row.P99 = load.Round(p.P50).String(), load.Round(p.P99).String()
		row.ErrorRate = load.Percent(rep.Load.Total().ErrorRate)
	}
	f := rep.Figures
	row.DBQ, row.CacheHit = stage.FormatFloat(f.DBQueriesPerRequest, 2), stage.FormatPercent(f.CacheHitRatio)
	row.QueueDepth, row.QueueAge = stage.FormatInt(f.QueueDepth), stage.FormatDuration(f.QueueOldestAge)
	held, all := drillCount(rep)
	row.Drills = fmt.Sprintf("%d/%d hold", held, all)
	return row
}

// printSummary prints one line per stage: the peak step's throughput and
// latency, the error rate of the whole load, the figures and the drills.
func printSummary(w io.Writer, results []*result, total time.Duration) {
	fmt.Fprintf(w, "== summary (%v): req/s, p50 and p99 of each stage's busiest load step; errors over its whole load\n", total.Round(100*time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "   stage\ttime\treq/s\tp50\tp99\terrors\tdb q/req\tcache hit\tqueue depth\toldest job\tdrills\t")
	for _, r := range results {
		s := summarize(r)
		fmt.Fprintf(tw, "   %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Stage, s.Time, s.Throughput, s.P50, s.P99, s.ErrorRate, s.DBQ, s.CacheHit, s.QueueDepth, s.QueueAge, s.Drills)
	}
	tw.Flush()
	for _, r := range results {
		if r.report != nil && r.report.Move != "" {
			fmt.Fprintf(w, "   %s: %s\n", r.def.name, r.report.Move)
		}
	}
}
