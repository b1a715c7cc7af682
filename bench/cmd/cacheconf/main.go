// Command cacheconf is the HTTP caching conformance scoreboard: it runs
// every case of cache/edge/edgetest (RFC 9111, 5861, 8246, 9211, 9213)
// against ladder's edge cache and against the shared caches it is ranked
// with — nginx proxy_cache, Varnish, Squid and Apache Traffic Server, all
// from Debian, each configured as the reverse-proxy cache its project
// documents (configs and the reason for every non-default setting:
// bench/internal/peers) — over loopback on the real clock, one scripted
// edgetest.Origin behind all of them.
//
// ladder runs "out of process style": cache/edge in this process, served
// by net/http on a loopback port, in front of an httputil.ReverseProxy to
// the same listening origin, so every cache sees the same bytes.
//
// Cases run in parallel (-parallel bounds them; pauses are real seconds).
// It prints markdown: per cache the MUST and SHOULD cases passed, per RFC
// section, and the Cache-Status (RFC 9211) cases apart — edgetest checks
// Cache-Status members only for a cache that names its member, and of
// these peers only ladder does (the others send no Cache-Status, so those
// cases say nothing about them). With -conformance FILE it also writes the
// failing case IDs per cache, with why, as markdown (scripts/bench writes
// bench/CONFORMANCE.md).
//
//	cd bench && go run ./cmd/cacheconf -conformance CONFORMANCE.md
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ladder-go/ladder/bench/internal/edgeh"
	"github.com/ladder-go/ladder/bench/internal/peers"
	"github.com/ladder-go/ladder/cache/edge/edgetest"
	"go.opentelemetry.io/otel/metric/noop"
)

var (
	parallel = flag.Int("parallel", 48, "cases in flight at once, over every cache")
	only     = flag.String("only", "", "comma-separated caches (ladder,nginx,varnish,squid,trafficserver); empty: all")
	confOut  = flag.String("conformance", "", "write the failing cases per cache as markdown to this file")
	quick    = flag.Bool("quick", false, "smoke run: only cases without pauses longer than 2s")
	timeout  = flag.Duration("timeout", 2*time.Minute, "bound on one case")
	runRe    = flag.String("run", "", "only the cases whose ID matches this regular expression")
)

// target is one cache under the suite.
type target struct {
	name        string
	cacheStatus string // its Cache-Status member, "" if it sends none
	start       func(addr string) (*peers.Proc, string, error)
	notRun      string
	url         string
	results     map[string]error // case ID → nil (pass) or why it failed, Cache-Status not checked
	csResults   map[string]error // the cases with Cache-Status expectations, its member checked (ladder only)
	conf        string
}

func main() {
	flag.Parse()
	log.SetOutput(io.Discard) // peers closing connections is not news
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cacheconf:", err)
		os.Exit(1)
	}
}

func run() error {
	peers.RaiseFDLimit()
	missing := peers.Ensure("nginx", "varnishd", "squid", "traffic_server")
	_ = missing // each peer reports its own missing binary as "not run"
	dir, err := os.MkdirTemp("", "cacheconf")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	_ = os.Chmod(dir, 0o755)
	var ps peers.Procs
	defer ps.Stop()
	ps.StopOnSignal()
	ps.RemoveOnStop(dir)

	origin := edgetest.NewOrigin(nil) // real clock
	ourl, err := origin.Listen("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer origin.Close()
	oaddr := strings.TrimPrefix(ourl, "http://")

	targets := []*target{
		{name: "ladder", cacheStatus: "ladder", start: func(addr string) (*peers.Proc, string, error) {
			return nil, edgeh.Name + ", served by net/http on loopback in this process, in front of an httputil.ReverseProxy to the origin", serveLadder(addr, ourl)
		}},
		{name: "nginx", start: func(addr string) (*peers.Proc, string, error) {
			return peers.Nginx(&ps, dir, addr, oaddr, 1, "")
		}},
		{name: "varnish", start: func(addr string) (*peers.Proc, string, error) {
			return peers.Varnish(&ps, dir, addr, oaddr, "")
		}},
		{name: "squid", start: func(addr string) (*peers.Proc, string, error) {
			return peers.Squid(&ps, dir, addr, oaddr, "")
		}},
		{name: "trafficserver", start: func(addr string) (*peers.Proc, string, error) {
			return peers.TrafficServer(&ps, dir, addr, oaddr, "")
		}},
	}
	var active []*target
	for _, tg := range targets {
		if *only != "" && !strings.Contains(","+*only+",", ","+tg.name+",") {
			continue
		}
		active = append(active, tg)
		addr, err := peers.FreeAddr()
		if err != nil {
			return err
		}
		p, conf, err := tg.start(addr)
		tg.conf = strings.ReplaceAll(conf, dir, "$TMPDIR")
		if err != nil {
			tg.notRun = err.Error()
			continue
		}
		if err := peers.WaitTCP(addr, p); err != nil {
			tg.notRun = "did not start: " + err.Error()
			continue
		}
		tg.url = "http://" + addr
		if err := probe(tg.url); err != nil {
			tg.notRun = "does not answer through to the origin: " + err.Error()
		}
	}

	cases := edgetest.Cases()
	if err := edgetest.Validate(cases); err != nil {
		return err
	}
	if *runRe != "" {
		re, err := regexp.Compile(*runRe)
		if err != nil {
			return err
		}
		cases = slices.DeleteFunc(cases, func(c edgetest.Case) bool { return !re.MatchString(c.ID) })
	}
	if *quick {
		cases = slices.DeleteFunc(cases, func(c edgetest.Case) bool {
			for _, s := range c.Steps {
				if s.Pause > 2*time.Second {
					return true
				}
			}
			return false
		})
	}
	start := time.Now()
	sem := make(chan struct{}, max(1, *parallel))
	var wg sync.WaitGroup
	var mu sync.Mutex
	check := func(c edgetest.Case, url, cacheStatus string, into map[string]error) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			defer cancel()
			err := edgetest.Check(ctx, c, edgetest.Target{URL: url, Origin: origin, CacheStatus: cacheStatus})
			mu.Lock()
			into[c.ID] = err
			mu.Unlock()
		})
	}
	for _, tg := range active {
		tg.results, tg.csResults = map[string]error{}, map[string]error{}
		if tg.notRun != "" {
			continue
		}
		for _, c := range cases {
			// the same checks for every cache: Cache-Status members unchecked
			check(c, tg.url, "", tg.results)
			if tg.cacheStatus != "" && checksCacheStatus(c) {
				check(c, tg.url, tg.cacheStatus, tg.csResults)
			}
		}
	}
	wg.Wait()
	ps.Stop()
	stopLadder()
	report(os.Stdout, active, cases, time.Since(start))
	if *confOut != "" {
		f, err := os.Create(*confOut)
		if err != nil {
			return err
		}
		conformance(f, active, cases)
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

var (
	ladderMu   sync.Mutex
	ladderStop func() error
)

// serveLadder serves ladder's edge on addr in this process, in front of a
// reverse proxy to the origin.
func serveLadder(addr, origin string) error {
	u, err := url.Parse(origin)
	if err != nil {
		return err
	}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.Out.Host = pr.In.Host }}
	h, closer, err := edgeh.New(rp, noop.NewMeterProvider())
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	ladderMu.Lock()
	ladderStop = func() error {
		err := srv.Close()
		<-done
		return closeBoth(err, closer.Close())
	}
	ladderMu.Unlock()
	return nil
}

func stopLadder() {
	ladderMu.Lock()
	defer ladderMu.Unlock()
	if ladderStop != nil {
		_ = ladderStop()
		ladderStop = nil
	}
}

func closeBoth(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// probe checks the cache forwards to the origin: the origin answers an
// unknown path itself, so a 502/503/504 (or no answer) means the proxy
// cannot reach it.
func probe(base string) error {
	cl := &http.Client{Timeout: 10 * time.Second}
	var last error
	for range 50 { // some peers accept before their origin connection pools are ready
		resp, err := cl.Get(base + "/cacheconf-probe")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadGateway && resp.StatusCode != http.StatusServiceUnavailable && resp.StatusCode != http.StatusGatewayTimeout {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	return last
}

// checksCacheStatus reports whether c looks at Cache-Status members (only
// a cache that names its member is checked on them).
func checksCacheStatus(c edgetest.Case) bool {
	for _, s := range c.Steps {
		if len(s.Expect.CacheStatus) > 0 {
			return true
		}
	}
	return false
}

type tally struct{ pass, total int }

func (t tally) String() string {
	if t.total == 0 {
		return "–"
	}
	return fmt.Sprintf("%d/%d", t.pass, t.total)
}

func (t *tally) add(err error) {
	t.total++
	if err == nil {
		t.pass++
	}
}

func report(w io.Writer, ts []*target, cases []edgetest.Case, took time.Duration) {
	var nMust, nShould, nMay, nCS int
	for _, c := range cases {
		if checksCacheStatus(c) {
			nCS++
		}
		switch {
		case c.Level == "MUST":
			nMust++
		case c.Level == "SHOULD":
			nShould++
		default:
			nMay++
		}
	}
	fmt.Fprintf(w, "%d cases of cache/edge/edgetest (%d MUST, %d SHOULD, %d MAY; %d of them also expect Cache-Status members), every cache over loopback on the real clock, one scripted origin, up to %d cases at once; took %s. Machine shared with other work (timing-sensitive cases — Age, stale windows — are judged with the suite's tolerances).\n\n",
		len(cases), nMust, nShould, nMay, nCS, *parallel, took.Round(time.Second))
	fmt.Fprintln(w, "| cache | MUST | SHOULD | MUST + SHOULD | MAY (not scored) | Cache-Status cases (RFC 9211) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, tg := range ts {
		if tg.notRun != "" {
			fmt.Fprintf(w, "| %s | not run: %s | | | | |\n", tg.name, oneLine(tg.notRun))
			continue
		}
		var must, should, may, cs tally
		for _, c := range cases {
			err := tg.results[c.ID]
			if checksCacheStatus(c) && tg.cacheStatus != "" {
				cs.add(tg.csResults[c.ID])
			}
			switch {
			case c.Level == "MUST":
				must.add(err)
			case c.Level == "SHOULD":
				should.add(err)
			default:
				may.add(err)
			}
		}
		both := tally{must.pass + should.pass, must.total + should.total}
		csCell := cs.String()
		if tg.cacheStatus == "" {
			csCell = "n/a: sends no Cache-Status"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", tg.name, must, should, both, may, csCell)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every cache runs every case with the same checks; Cache-Status (RFC 9211) members are not checked there. The last column runs the cases that expect Cache-Status members again with the member checked, for ladder only: RFC 9211 lets a cache choose whether to send the field, and nginx, Varnish, Squid 5 and Traffic Server send none (Squid sends X-Cache), so those checks say nothing about them. The RFC 9211 SHOULDs (keeping members added upstream) are plain field checks and count for every cache.")
	fmt.Fprintln(w)

	// per RFC section, MUST + SHOULD (Cache-Status cases apart)
	type sec struct{ rfc, section string }
	secs := map[sec]bool{}
	for _, c := range cases {
		if c.Level != "MAY" {
			secs[sec{c.RFC, c.Section}] = true
		}
	}
	var order []sec
	for s := range secs {
		order = append(order, s)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].rfc != order[j].rfc {
			return rfcRank(order[i].rfc) < rfcRank(order[j].rfc)
		}
		return sectionLess(order[i].section, order[j].section)
	})
	head := []string{"RFC section (MUST + SHOULD)"}
	for _, tg := range ts {
		if tg.notRun == "" {
			head = append(head, tg.name)
		}
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, s := range order {
		cells := []string{"RFC " + s.rfc + " §" + s.section}
		for _, tg := range ts {
			if tg.notRun != "" {
				continue
			}
			var t tally
			for _, c := range cases {
				if c.RFC == s.rfc && c.Section == s.section && c.Level != "MAY" {
					t.add(tg.results[c.ID])
				}
			}
			cells = append(cells, t.String())
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Configurations (bench/internal/peers documents why each non-default setting is there):")
	fmt.Fprintln(w)
	for _, tg := range ts {
		fmt.Fprintf(w, "<details><summary>%s</summary>\n\n```\n%s\n```\n</details>\n\n", tg.name, strings.TrimSpace(tg.conf))
	}
}

// conformance writes the failing cases per cache, with why.
func conformance(w io.Writer, ts []*target, cases []edgetest.Case) {
	fmt.Fprintln(w, "# HTTP caching conformance: failing cases per cache")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Written by `cd bench && go run ./cmd/cacheconf -conformance CONFORMANCE.md` (scripts/bench runs it) on %s at %s from what the suite measured; nothing here is typed by hand. The scoreboard is in [RESULTS.md](RESULTS.md) (cacheconf), and printed by the same command. Cases are in cache/edge/edgetest; every cache runs them with the same checks, Cache-Status members unchecked, and ladder runs those that expect members again with its member checked (the peers send no Cache-Status).\n\n", time.Now().UTC().Format("2006-01-02"), commit())
	fmt.Fprintln(w, "Each line: case ID (level, RFC section): what is checked — the first step that failed and why.")
	fmt.Fprintln(w)
	for _, tg := range ts {
		fmt.Fprintf(w, "## %s\n\n", tg.name)
		if tg.notRun != "" {
			fmt.Fprintf(w, "not run: %s\n\n", oneLine(tg.notRun))
			continue
		}
		failing(w, cases, tg.results)
		if tg.cacheStatus != "" {
			fmt.Fprintf(w, "### %s, with its Cache-Status member (`%s`) checked\n\n", tg.name, tg.cacheStatus)
			failing(w, cases, tg.csResults)
		}
	}
}

func failing(w io.Writer, cases []edgetest.Case, results map[string]error) {
	n := 0
	for _, c := range cases {
		err, ran := results[c.ID]
		if !ran || err == nil {
			continue
		}
		n++
		fmt.Fprintf(w, "- `%s` (%s, RFC %s §%s): %s — %s\n", c.ID, c.Level, c.RFC, c.Section, c.Name, clip(oneLine(err.Error()), 300))
	}
	if n == 0 {
		fmt.Fprintln(w, "none")
	}
	fmt.Fprintln(w)
}

// commit is the short hash of HEAD, "?" outside a git checkout.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func rfcRank(r string) int {
	return slices.Index([]string{"9111", "5861", "8246", "9211", "9213"}, r)
}

// sectionLess orders "4.2.1" before "4.10".
func sectionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.Atoi(as[i])
		y, erry := strconv.Atoi(bs[i])
		if errx != nil || erry != nil {
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
			continue
		}
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
