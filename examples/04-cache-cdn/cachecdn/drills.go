package cachecdn

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// The drills' names (the report's keys).
const (
	drillEdge     = "page views, without and with the edge"
	drillStampede = "a hot key expires under load"
	drillDeploy   = "deploy new asset hashes, old pages open"
)

// edgeCompare has new visitors (empty browser caches) load the front page
// and its assets straight from the far origin, then through the edge.
func (e *env) edgeCompare(ctx context.Context) (stage.Drill, error) {
	visitors := map[bool]int{false: 8, true: 4}[e.c.quick]
	d := e.c.step
	_, page, err := fetch(ctx, http.DefaultClient, e.direct+"/")
	if err != nil {
		return stage.Drill{}, fmt.Errorf("edge drill: %w", err)
	}
	perView := int64(1 + len(pageAssets(page)))

	o0 := e.origin.requests.Load()
	without, err := pageViews(ctx, e.direct, visitors, d, 5000)
	if err != nil {
		return stage.Drill{}, fmt.Errorf("edge drill: %w", err)
	}
	o1 := e.origin.requests.Load()
	s0 := e.edge.Stats()
	with, err := pageViews(ctx, e.edgeAt, visitors, d, 5000)
	if err != nil {
		return stage.Drill{}, fmt.Errorf("edge drill: %w", err)
	}
	o2 := e.origin.requests.Load()
	s1 := e.edge.Stats()
	reqWith := int64(with.Views) * perView
	offload := 1 - ratio(o2-o1, reqWith)
	return stage.Drill{
		Name:  drillEdge,
		Holds: without.Failed == 0 && with.Failed == 0 && with.Views > 0 && o2-o1 < reqWith,
		Outcome: fmt.Sprintf("%d visitors, page + %d assets each, origin %v away: without the edge %d views, p50 %v, p99 %v, %d origin requests (%.1f per view); "+
			"with it %d views, p50 %v, p99 %v, %d origin requests (%.1f per view: the page, no-store, still goes; the immutable assets do not): edge %d hits, %d misses, %s of the requests answered at the edge",
			visitors, perView-1, e.c.rtt, without.Views, load.Round(without.P50), load.Round(without.P99), o1-o0, ratio(o1-o0, int64(without.Views)),
			with.Views, load.Round(with.P50), load.Round(with.P99), o2-o1, ratio(o2-o1, int64(with.Views)), s1.Hits-s0.Hits, s1.Misses-s0.Misses, load.Percent(offload)),
		Numbers: map[string]float64{
			"without_p50_seconds": without.P50.Seconds(), "without_p99_seconds": without.P99.Seconds(), "without_origin_per_view": ratio(o1-o0, int64(without.Views)),
			"with_p50_seconds": with.P50.Seconds(), "with_p99_seconds": with.P99.Seconds(), "with_origin_per_view": ratio(o2-o1, int64(with.Views)),
			"edge_hits": float64(s1.Hits - s0.Hits), "edge_misses": float64(s1.Misses - s0.Misses), "edge_offload": offload,
			"failed_views": float64(without.Failed + with.Failed), "rtt_seconds": e.c.rtt.Seconds(),
		},
	}, nil
}

// burstResult is one mode's outcome in the stampede drill.
type burstResult struct {
	mode     string
	queries  []int64 // per expiry
	p50, p99 time.Duration
	failed   int
}

func (b burstResult) max() int64 { return slices.Max(b.queries) }

// stampedeDrill lets the hot key (the feed) expire, then has -burst users
// read it at once, a few times, on a web tier of each kind of feed cache,
// counting the database's feed queries per expiry.
func (e *env) stampedeDrill(ctx context.Context) (stage.Drill, error) {
	rounds := map[bool]int{false: 3, true: 2}[e.c.quick]
	modes := []string{"naive", "aside", "swr"}
	// Every mode's web tier is started at once (the starts are mostly
	// waiting), then loaded one after the other.
	tiers := make([]*webTier, len(modes))
	errs := make([]error, len(modes))
	var wg sync.WaitGroup
	for i, mode := range modes {
		wg.Go(func() { tiers[i], errs[i] = startWeb(ctx, "hot-"+mode, mode, e.c, e.data.url, e.group, e.logger) })
	}
	wg.Wait()
	defer func() {
		for _, t := range tiers {
			if t != nil {
				t.close()
			}
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return stage.Drill{}, fmt.Errorf("stampede drill: %w", err)
	}
	var results []burstResult
	for i, mode := range modes {
		r, err := e.bursts(ctx, tiers[i], mode, rounds)
		tiers[i].close()
		tiers[i] = nil
		if err != nil {
			return stage.Drill{}, fmt.Errorf("stampede drill (%s): %w", mode, err)
		}
		results = append(results, r)
	}
	naive, aside, swr := results[0], results[1], results[2]
	bound := int64(e.c.web) // one load per web server's cache; a shared Redis tier may save some
	protected := max(aside.max(), swr.max())
	failed := naive.failed + aside.failed + swr.failed
	describe := func(r burstResult) string {
		return fmt.Sprintf("%v queries (p50 %v, p99 %v)", r.queries, load.Round(r.p50), load.Round(r.p99))
	}
	return stage.Drill{
		Name:  drillStampede,
		Holds: failed == 0 && protected <= bound && naive.max() > bound,
		Outcome: fmt.Sprintf("%d users read the feed as it expires, %d times, %d web servers: without protection (naive cache-aside) %s; "+
			"with cache.Aside %s; with stale-while-revalidate %s; bound %d (one load per web server), %d failed",
			e.c.burst, rounds, e.c.web, describe(naive), describe(aside), describe(swr), bound, failed),
		Numbers: map[string]float64{
			"naive_queries_max": float64(naive.max()), "aside_queries_max": float64(aside.max()), "swr_queries_max": float64(swr.max()),
			"protected_queries_max": float64(protected), "bound": float64(bound), "burst": float64(e.c.burst),
			"naive_p99_seconds": naive.p99.Seconds(), "aside_p99_seconds": aside.p99.Seconds(), "swr_p99_seconds": swr.p99.Seconds(),
			"failed": float64(failed),
		},
	}, nil
}

// bursts runs rounds of "the key expires, burst users read it" on a web
// tier whose feed cache is mode.
func (e *env) bursts(ctx context.Context, tier *webTier, mode string, rounds int) (burstResult, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: e.c.burst, Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	// A first burst, not counted: it loads the key on every server and
	// opens the connections the counted bursts use.
	if _, failed := burst(ctx, client, tier.url+"/api/feed", e.c.burst); failed > 0 {
		return burstResult{}, fmt.Errorf("warm-up: %d of %d reads failed", failed, e.c.burst)
	}
	r := burstResult{mode: mode}
	var times []time.Duration
	settle := max(100*time.Millisecond, 4*e.c.dbWork) // a background reload (swr) lands
	for range rounds {
		time.Sleep(e.c.ttl + e.c.ttl/4) // the key has expired everywhere
		before := e.data.count.Counts().Reads
		took, failed := burst(ctx, client, tier.url+"/api/feed", e.c.burst)
		if err := ctx.Err(); err != nil {
			return r, err
		}
		time.Sleep(settle)
		r.queries = append(r.queries, e.data.count.Counts().Reads-before)
		r.failed += failed
		times = append(times, took...)
	}
	slices.Sort(times)
	r.p50, r.p99 = times[len(times)*50/100], times[min(len(times)-1, len(times)*99/100)]
	return r, nil
}

// burst has n users GET u at once and returns how long each took and how
// many failed.
func burst(ctx context.Context, client *http.Client, u string, n int) ([]time.Duration, int) {
	var wg sync.WaitGroup
	var failed atomic.Int64
	took := make([]time.Duration, n)
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			start := time.Now()
			code, _, err := fetch(ctx, client, u)
			took[i] = time.Since(start)
			if err != nil || code != http.StatusOK {
				failed.Add(1)
			}
		})
	}
	close(gate)
	wg.Wait()
	return took, int(failed.Load())
}

// deployDrill: a page of build 1 is open; build 2 (new hashes for
// style.css and app.js) replaces every web server, one at a time; the old
// page's asset URLs are fetched during the deploy (from the origin), after
// it through the edge (stored there) and with the edge purged of them
// (served by build 2 from assets.Options.Previous).
func (e *env) deployDrill(ctx context.Context) (stage.Drill, error) {
	tr := &http.Transport{Proxy: nil}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	fail := func(err error) (stage.Drill, error) { return stage.Drill{}, fmt.Errorf("deploy drill: %w", err) }

	code, page, err := fetch(ctx, client, e.edgeAt+"/")
	if err != nil || code != http.StatusOK {
		return fail(fmt.Errorf("build 1 page: %d %v", code, err))
	}
	old := pageAssets(page)
	if len(old) == 0 {
		return fail(fmt.Errorf("build 1 page references no assets"))
	}
	for _, a := range old { // the open page loaded them, and the edge stored them
		if code, _, err := fetch(ctx, client, e.edgeAt+a); err != nil || code != http.StatusOK {
			return fail(fmt.Errorf("build 1 asset %s: %d %v", a, code, err))
		}
	}

	// Old pages keep asking for their assets while the deploy runs,
	// straight from the origin (a CDN's misses do).
	var during, during404, duringFailed atomic.Int64
	stopFetch := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stopFetch:
					return
				default:
				}
				code, _, err := fetch(ctx, client, e.direct+old[i%len(old)])
				during.Add(1)
				switch {
				case err != nil:
					duringFailed.Add(1)
				case code == http.StatusNotFound:
					during404.Add(1)
				case code != http.StatusOK:
					duringFailed.Add(1)
				}
			}
		})
	}
	start := time.Now()
	var rollErr error
	for _, w := range e.web.servers() {
		if _, err := e.web.start(ctx, 2, true); err != nil {
			rollErr = err
			break
		}
		if err := e.web.update(); err != nil {
			rollErr = err
			break
		}
		if err := e.web.retire(w); err != nil {
			rollErr = err
			break
		}
	}
	rolled := time.Since(start)
	close(stopFetch)
	wg.Wait()
	if rollErr != nil {
		return fail(rollErr)
	}

	code, page, err = fetch(ctx, client, e.edgeAt+"/")
	if err != nil || code != http.StatusOK {
		return fail(fmt.Errorf("build 2 page: %d %v", code, err))
	}
	fresh := pageAssets(page)
	changed := 0
	for _, a := range fresh {
		if !slices.Contains(old, a) {
			changed++
		}
	}
	count404 := func(base string, paths []string) (n404, other int) {
		for _, p := range paths {
			code, _, err := fetch(ctx, client, base+p)
			switch {
			case err != nil || (code != http.StatusOK && code != http.StatusNotFound):
				other++
			case code == http.StatusNotFound:
				n404++
			}
		}
		return n404, other
	}
	new404, newOther := count404(e.edgeAt, fresh)
	edge404, edgeOther := count404(e.edgeAt, old) // stored at the edge
	purged := 0
	for _, a := range old {
		purged += e.edge.Purge(e.edgeAt + a)
	}
	purged404, purgedOther := count404(e.edgeAt, old) // the edge fetches them from build 2

	// The counterfactual: build 2 without Previous.
	bare, err := e.group.Start(ctx, proc.Spec{Name: "web-no-previous", Role: "web", Args: []string{
		"-store", e.data.url, "-cache", "aside", "-ttl", e.c.ttl.String(), "-kdf-iter", fmt.Sprint(e.c.kdfIter), "-build", "2", "-previous=false", "-redis=",
	}})
	if err != nil {
		return fail(err)
	}
	bare404, _ := count404(bare.URL(), old)
	bare.Stop()

	total404 := during404.Load() + int64(edge404+purged404)
	failed := duringFailed.Load() + int64(edgeOther+purgedOther+newOther+new404)
	return stage.Drill{
		Name:  drillDeploy,
		Holds: total404 == 0 && failed == 0 && changed > 0 && during.Load() > 0 && purged > 0,
		Outcome: fmt.Sprintf("build 2 rolled over %d web servers in %v; build 1's %d asset URLs: %d fetches from the origin during the deploy, %d 404; after it through the edge %d 404, "+
			"purged from the edge (%d objects) and fetched again %d 404 (build 2 serves them from assets.Options.Previous); the new page references %d new hashes, %d of them failed; "+
			"without Previous a build 2 server answers %d of the old URLs 404",
			e.c.web, rolled.Round(time.Millisecond), len(old), during.Load(), during404.Load(), edge404, purged, purged404, changed, newOther+new404, bare404),
		Numbers: map[string]float64{
			"old_404": float64(total404), "during_fetches": float64(during.Load()), "during_404": float64(during404.Load()),
			"edge_404": float64(edge404), "purged_404": float64(purged404), "new_hashes": float64(changed),
			"failed": float64(failed), "without_previous_404": float64(bare404),
		},
	}, nil
}
