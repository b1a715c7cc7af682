package observe

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ladder-go/ladder/internal/testenv"
)

// chromium finds headless Chromium (Debian's chromium, which
// scripts/servers.sh installs); missing, the test skips, or fails when
// integration tests are required.
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

// The status page in a real browser: headless Chromium loads it on
// loopback with live numbers, every section renders, the retry button
// works through CSRF and the same-origin check, and a screenshot is saved
// (to t.TempDir() and, when LADDER_SCREENSHOT_DIR is set, there).
func TestPageInChromium(t *testing.T) {
	exe := chromium(t)
	f := newFakeService(t)
	now := time.Now()
	clock := func() time.Time { return now }
	adv, _ := NewAdvisor(f.reader, AdvisorOptions{Now: clock})
	slo, _ := NewSLO("checkout", SLOOptions{Objective: 0.999, Now: clock})
	page, err := NewPage(f.reader, PageOptions{
		Title: "shop · status", Advisor: adv, SLOs: []*SLO{slo}, Now: clock, Refresh: -1,
		HotKeys: func() []HotKey {
			return []HotKey{{Key: "product:4711", Shard: "shard-c", Rate: 182}, {Key: "user:42", Shard: "shard-c", Rate: 57}}
		},
		// Operators reach the admin listener on loopback only.
		Authorize: func(r *http.Request) bool {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			return net.ParseIP(host).IsLoopback()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	retried := make(chan string, 1)
	_ = page.Handle(ActionRetryDead, "Retry dead", func(_ context.Context, q string) error { retried <- q; return nil })
	_ = page.Handle(ActionDrainBackend, "Drain", func(context.Context, string) error { return nil })

	// Ten minutes of history, at the page's 5 s sampling.
	ctx := context.Background()
	for i := range 120 {
		now = now.Add(5 * time.Second)
		f.step()
		slo.Add(1000, int64(i%7))
		if i%6 == 0 {
			if _, err := adv.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := page.Sample(ctx); err != nil {
			t.Fatal(err)
		}
	}

	mux := http.NewServeMux()
	mux.Handle("/admin/status", page)
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { // 127.0.0.1
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	defer srv.Close()

	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1400, 1000),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("font-render-hinting", "none"))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 60*time.Second)
	defer cancelTimeout()

	url := srv.URL + "/admin/status"
	if err := chromedp.Do(bctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#queues"))); err != nil {
		t.Fatalf("chromium: load %s: %v", url, err)
	}
	run := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(bctx, a)
		if err != nil {
			t.Fatalf("chromium: %s: %v", what, err)
		}
		return v
	}
	title := run("title", chromedp.Title())
	sections, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main > section")].map(s => s.id)`))
	if err != nil {
		t.Fatal(err)
	}
	charts, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#golden .chart svg polyline").length`))
	if err != nil {
		t.Fatal(err)
	}
	queueRow := run("queue row", chromedp.Text(`//section[@id="queues"]//tr[td[1]="mail"]`))
	backendRow := run("backend row", chromedp.Text(`//section[@id="backends"]//tr[td[1]="web-2:8080"]`))
	skew := run("skew", chromedp.Text(chromedp.ID("skew")))
	advice := run("advice", chromedp.Text(chromedp.ID("advice")))
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "status-page.png", png)
	if title != "shop · status" {
		t.Errorf("title %q", title)
	}
	want := []string{"golden", "advice", "slos", "backends", "health", "breakers", "cache", "queues", "replicas", "shards"}
	if strings.Join(sections, ",") != strings.Join(want, ",") {
		t.Errorf("sections %v, want %v", sections, want)
	}
	if charts != 6 {
		t.Errorf("%d charts, want 6", charts)
	}
	// Live numbers: the mail queue's last tick recorded 40+119·15 ready jobs,
	// 3 dead letters; web-2 served 90 requests a tick for 120 ticks.
	for _, w := range []string{"1,825", "3", "Retry dead"} {
		if !strings.Contains(queueRow, w) {
			t.Errorf("queue row %q lacks %q", queueRow, w)
		}
	}
	if !strings.Contains(backendRow, "9,600") {
		t.Errorf("backend row %q lacks its 9,600 requests", backendRow)
	}
	if skew != "2.6" {
		t.Errorf("skew %q", skew)
	}
	if !strings.Contains(advice, "replica.lag 6.5 ≥ 5") {
		t.Errorf("advice %q lacks the replica lag evidence", advice)
	}

	// The retry button: a real form POST from the page, then the redirect back.
	if err := chromedp.Do(bctx, chromedp.Click(`//section[@id="queues"]//tr[td[1]="mail"]//button`),
		chromedp.WaitVisible(chromedp.ID("flash"))); err != nil {
		t.Fatalf("chromium: retry click: %v (POSTs seen: %d)", err, posts.Load())
	}
	flash := run("flash", chromedp.Text(chromedp.ID("flash")))
	select {
	case q := <-retried:
		if q != "mail" {
			t.Errorf("retried %q, want mail", q)
		}
	default:
		t.Error("the retry action did not run")
	}
	if !strings.Contains(flash, "Retry dead mail: done") {
		t.Errorf("flash %q", flash)
	}
}

func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dirs := []string{t.TempDir()}
	if d := os.Getenv("LADDER_SCREENSHOT_DIR"); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s (%d bytes)", p, len(png))
	}
}
