package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/internal/testenv"
)

// The walk with -quick, in this process: every stage runs (under -race,
// where the stages' race-instrumented children are several times slower,
// 01 and 06 only: the ladder's own code runs the same; LADDER_DRILL=full
// runs them all), the tables print the numbers of the run's own JSON
// reports, every drill holds, nothing is left running, and the HTML report
// renders in headless Chromium with its charts.
func TestQuickWalkPrintsTheRunAndRendersTheReport(t *testing.T) {
	dir := t.TempDir()
	args := []string{"-quick", "-out", dir}
	want := stages
	if raceEnabled && os.Getenv("LADDER_DRILL") != "full" {
		args = append(args, "-stage", "1,6")
		want = []stageDef{stages[0], stages[5]}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, args, &out, &errOut)
	s := out.String()
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, s, errOut.String())
	}
	if kids := proc.Children(); len(kids) > 0 {
		t.Errorf("processes left behind: %v", kids)
	}
	if strings.Contains(s, "FAILS") || strings.Contains(s, "FAILED") {
		t.Errorf("a drill failed:\n%s", s)
	}
	summary := s[strings.Index(s, "== summary"):]
	var fromRun []string // numbers the report must show too
	for _, st := range want {
		rep, err := readReport(filepath.Join(dir, st.name+".json"))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if _, err := os.Stat(filepath.Join(dir, st.name+".log")); err != nil {
			t.Errorf("%s: log: %v", st.name, err)
		}
		if !strings.Contains(s, "== "+st.name+": "+rep.Title) {
			t.Errorf("%s: its table is missing", st.name)
		}
		if len(rep.Drills) == 0 || !rep.Holds() {
			t.Errorf("%s: drills %+v", st.name, rep.Drills)
		}
		for _, d := range rep.Drills {
			if !strings.Contains(s, d.Outcome) {
				t.Errorf("%s: drill %q's outcome is not printed", st.name, d.Name)
			}
		}
		if rep.Move != "" && !strings.Contains(s, rep.Move) {
			t.Errorf("%s: the advisor's line %q is not printed", st.name, rep.Move)
		}
		best, ok := peak(rep)
		if !ok || best.Throughput <= 0 {
			t.Fatalf("%s: no throughput in its report", st.name)
		}
		tput := fmtRate(best.Throughput)
		row := lineOf(summary, st.name)
		if !strings.Contains(row, " "+tput+" ") || !strings.Contains(row, "hold") {
			t.Errorf("%s: summary row %q lacks its throughput %s from the report", st.name, row, tput)
		}
		if rep.Figures.DBQueriesPerRequest == nil {
			t.Errorf("%s: no database queries per request", st.name)
		}
		fromRun = append(fromRun, tput)
	}
	if rep, _ := readReport(filepath.Join(dir, "06-queue-workers.json")); rep != nil {
		if row := lineOf(summary, "06-queue-workers"); rep.Figures.QueueDepth == nil || strings.Count(row, "n/a") != 1 { // 06 has no cache
			t.Errorf("06: queue figures missing: %q", row)
		}
	}
	if row := lineOf(summary, "01-single-box"); strings.Count(row, "n/a") != 3 { // no cache, no queue
		t.Errorf("01: want n/a for cache and queue: %q", row)
	}
	if !strings.Contains(s, "report: "+filepath.Join(dir, "report.html")) {
		t.Errorf("the report's path is not printed:\n%s", s)
	}
	checkReportInChromium(t, filepath.Join(dir, "report.html"), want, fromRun)
}

// lineOf is the first line of s holding sub.
func lineOf(s, sub string) string {
	for _, ln := range strings.Split(s, "\n") {
		if strings.Contains(ln, sub) {
			return ln
		}
	}
	return ""
}

// chromium finds headless Chromium; missing, the test skips, or fails when
// integration tests are required (as observe's status page test).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if testenv.Required() {
		t.Fatalf("chromium not found (Debian package chromium; scripts/servers.sh installs it), but %s=required", testenv.EnvIntegration)
	}
	t.Skip("chromium not found: install Debian's chromium package (scripts/test does)")
	return ""
}

func checkReportInChromium(t *testing.T, report string, want []stageDef, numbers []string) {
	exe := chromium(t)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 1000),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("font-render-hinting", "none"))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	defer cancelTimeout()
	u := (&url.URL{Scheme: "file", Path: report}).String()
	if err := chromedp.Do(bctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("#timeline svg"))); err != nil {
		t.Fatalf("chromium: load %s: %v", u, err)
	}
	text, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatal(err)
	}
	// Every chart's rendered size: the overview's two, two per stage with a
	// load, and the timeline.
	sizes, err := chromedp.Run(bctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll("svg")].map(s => { const r = s.getBoundingClientRect(); return r.width * r.height })`))
	if err != nil {
		t.Fatal(err)
	}
	bars, err := chromedp.Run(bctx, chromedp.Evaluate[int](`[...document.querySelectorAll("svg rect.bar")].filter(r => r.getBoundingClientRect().height > 0).length`))
	if err != nil {
		t.Fatal(err)
	}
	marks, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#timeline circle.mark.ok").length`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(filepath.Dir(report), "report.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %s; screenshot: %s (%d bytes)", report, shot, len(png))
	if d := os.Getenv("LADDER_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err == nil {
			p := filepath.Join(d, "ladder-report.png")
			if err := os.WriteFile(p, png, 0o644); err == nil {
				t.Logf("screenshot artifact: %s", p)
			}
		}
	}
	if len(sizes) < 3+2*len(want) {
		t.Errorf("%d charts, want at least %d", len(sizes), 3+2*len(want))
	}
	for i, a := range sizes {
		if a <= 0 {
			t.Errorf("chart %d has no rendered size", i)
		}
	}
	if bars < 2*len(want) {
		t.Errorf("%d bars drawn", bars)
	}
	if marks == 0 {
		t.Error("no drill on the timeline")
	}
	for _, st := range want {
		if !strings.Contains(text, st.name) {
			t.Errorf("the page lacks stage %s", st.name)
		}
	}
	for _, n := range numbers {
		if !strings.Contains(text, n) {
			t.Errorf("the page lacks %s, a number of the run", n)
		}
	}
	if !strings.Contains(text, "every drill held") {
		t.Errorf("the page lacks the verdict")
	}
}
