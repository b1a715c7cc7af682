package observe

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// sample is one point of the charts' history: the signals derived over the
// interval that ended at At.
type sample struct {
	At      time.Time
	Signals Signals
}

// history is a bounded ring of samples.
type history struct {
	buf  []sample
	next int
	full bool
}

func (h *history) add(s sample) {
	h.buf[h.next] = s
	h.next = (h.next + 1) % len(h.buf)
	h.full = h.full || h.next == 0
}

// all returns the samples oldest first.
func (h *history) all() []sample {
	if !h.full {
		return append([]sample(nil), h.buf[:h.next]...)
	}
	return append(append([]sample(nil), h.buf[h.next:]...), h.buf[:h.next]...)
}

// chartSpec is one golden-signal chart: the first of its signals present in
// the history is drawn.
type chartSpec struct {
	Title   string
	Signals []string
	Format  func(float64) string
}

var goldenCharts = []chartSpec{
	{"Traffic (requests/s)", []string{SigHTTPRate, SigLBRate}, fmtNum},
	{"Errors", []string{SigHTTPErrors, SigLBErrors}, func(v float64) string { return fmtNum(v*100) + " %" }},
	{"Latency p99", []string{SigHTTPP99, SigDBP99}, fmtDur},
	{"Saturation (in flight)", []string{SigHTTPActive, SigLBInflight, SigCPU}, fmtNum},
	{"Queue: ready jobs", []string{SigQueueReady}, fmtNum},
	{"Cache hit ratio", []string{SigCacheHit}, func(v float64) string { return fmtNum(v*100) + " %" }},
}

// chartView is a small SVG line chart, drawn by the template.
type chartView struct {
	Title, Signal string
	Last, Max     string
	Points        string // SVG polyline points in the 300×80 view box
	Area          string // the same, closed along the bottom
	Span          string // how far back the chart reaches
}

const chartW, chartH = 300.0, 80.0

func charts(samples []sample) []chartView {
	var out []chartView
	for _, spec := range goldenCharts {
		sig := ""
		for _, s := range spec.Signals {
			for _, sm := range samples {
				if v, ok := sm.Signals[s]; ok && finite(v) {
					sig = s
					break
				}
			}
			if sig != "" {
				break
			}
		}
		if sig == "" {
			continue
		}
		out = append(out, drawChart(spec, sig, samples))
	}
	return out
}

func drawChart(spec chartSpec, sig string, samples []sample) chartView {
	var xs []time.Time
	var ys []float64
	top := 0.0
	for _, sm := range samples {
		if v, ok := sm.Signals[sig]; ok && finite(v) {
			xs, ys = append(xs, sm.At), append(ys, v)
			top = max(top, v)
		}
	}
	c := chartView{Title: spec.Title, Signal: sig, Max: spec.Format(top), Last: spec.Format(ys[len(ys)-1])}
	scale := top * 1.1
	if scale == 0 {
		scale = 1
	}
	first, last := xs[0], xs[len(xs)-1]
	span := last.Sub(first)
	c.Span = "last " + span.Round(time.Second).String()
	var b strings.Builder
	for i := range xs {
		x := chartW
		if span > 0 {
			x = float64(xs[i].Sub(first)) / float64(span) * chartW
		}
		y := chartH - ys[i]/scale*chartH
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(x, 'f', 1, 64) + "," + strconv.FormatFloat(y, 'f', 1, 64))
	}
	c.Points = b.String()
	x0 := "0"
	if span == 0 {
		x0 = strconv.FormatFloat(chartW, 'f', 1, 64)
	}
	c.Area = x0 + "," + strconv.FormatFloat(chartH, 'f', 1, 64) + " " + c.Points + " " +
		strconv.FormatFloat(chartW, 'f', 1, 64) + "," + strconv.FormatFloat(chartH, 'f', 1, 64)
	return c
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
