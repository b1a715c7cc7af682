package cachecdn

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/ladder-go/ladder/cache/edge"
	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
)

// env is what the walk's parts share.
type env struct {
	c      config
	data   *dataTier
	web    *webTier
	origin *farOrigin
	edge   *edge.Cache
	edgeAt string // the edge's URL (near the users)
	direct string // the origin's URL (far from them)
	group  *proc.Group
	logger *slog.Logger
	stdout io.Writer
}

func walk(ctx context.Context, c config, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	c.prefix = "ladder-ex04-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	ranCache := "cache.Aside (LRU, TTL " + c.ttl.String() + ", stale-while-revalidate) in each web server's process"
	ranSessions := "Redis at " + c.redis + " (session/redisstore)"
	if c.redis != "" {
		rdb, err := app.OpenRedis(ctx, c.redis) // fail fast, with a message, before starting anything
		if err != nil {
			return err
		}
		rdb.Close()
		c.sessions = c.redis
		ranCache = "cache/rediscache: cache.Aside L1 (TTL " + c.ttl.String() + ", stale-while-revalidate) in each web server over a shared Redis at " + c.redis
	} else {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("miniredis: %w", err)
		}
		defer mr.Close()
		c.sessions = mr.Addr()
		ranSessions = "miniredis, embedded in this process (real RESP on " + c.sessions + "), session/redisstore"
	}
	data, err := startData(ctx, c)
	if err != nil {
		return err
	}
	defer data.close()
	group, err := proc.NewGroup(proc.Options{Stderr: stderr})
	if err != nil {
		return err
	}
	defer group.Close()
	web, err := startWeb(ctx, "web", "swr", c, data.url, group, logger)
	if err != nil {
		return err
	}
	defer web.close()
	origin := &farOrigin{next: web.proxy, rtt: c.rtt}
	direct, stopDirect, err := proc.ServeLocal(ctx, origin)
	if err != nil {
		return err
	}
	defer stopDirect()
	ec, err := edge.New(origin, edge.Options{Name: "edge", OriginTimeout: 10 * time.Second, Logger: logger})
	if err != nil {
		return err
	}
	defer ec.Close()
	edgeAt, stopEdge, err := proc.ServeLocal(ctx, ec)
	if err != nil {
		return err
	}
	defer stopEdge()
	e := &env{c: c, data: data, web: web, origin: origin, edge: ec, edgeAt: edgeAt, direct: direct, group: group, logger: logger, stdout: stdout}

	rep := &stage.Report{
		Stage: name,
		Title: "cache-aside in front of the database, an edge cache in front of the origin, fingerprinted assets",
		Ran: map[string]string{
			"edge":     "cache/edge in this process, " + edgeAt + ", near the users (no added latency)",
			"origin":   fmt.Sprintf("%s, %v away from the users and the edge (added to every request it gets); lb.Proxy (round robin) in front of %d web servers", direct, c.rtt, c.web),
			"web":      fmt.Sprintf("%d child processes of this binary (examples/app), assets fingerprinted by cache/assets", c.web),
			"cache":    ranCache,
			"sessions": ranSessions,
			"sql":      data.ran,
		},
	}
	rep.PrintHeader(stdout)

	// 1. Rising load through the edge (the API: uncacheable, it crosses the
	// distance every time), for the golden signals and the cache's share.
	if err := e.risingLoad(ctx, rep); err != nil {
		return err
	}
	rep.PrintLoad(stdout)
	rep.PrintNotes(stdout)

	// 2. New visitors load the front page and its assets, without and with
	// the edge; 3. and 4., the drills. Each one's At is when it began, since
	// the load began (the ladder's timeline).
	for _, f := range []func(context.Context) (stage.Drill, error){e.edgeCompare, e.stampedeDrill, e.deployDrill} {
		at := time.Since(rep.Load.Start)
		d, err := f(ctx)
		if err != nil {
			return err
		}
		d.At = at
		stamp(&d, rep.Load.Start)
		rep.Drills = append(rep.Drills, d)
		(&stage.Report{Drills: []stage.Drill{d}}).PrintDrills(stdout)
	}
	rep.Move = moveLine(rep)
	// observe's advisor reads one process's signals and has no rule for the
	// distance between the users and a single region: say so, rather than
	// dress the drills' numbers up as its advice.
	rep.Notes = append(rep.Notes, "the move line is built from the drills' numbers: observe's advisor has no rule for the distance between users and the one region (the web servers' own rules fired none at this load)")
	return rep.Finish(stdout, "next: 05-multi-dc-sharding brings the origin near the users and splits the writes; 06-queue-workers takes slow work out of the request.", c.jsonPath)
}

// risingLoad runs the rising load through the edge and notes what the
// cache and the edge took.
func (e *env) risingLoad(ctx context.Context, rep *stage.Report) error {
	first := e.web.servers()[0]
	q0 := e.data.count.Counts()
	f0, err := e.web.feedStats(ctx)
	if err != nil {
		return err
	}
	s0 := e.edge.Stats()
	o0 := e.origin.requests.Load()
	res, err := load.Run(ctx, load.Options{
		BaseURL: e.edgeAt, Users: 8, Steps: load.Rising(2, 6, 3, e.c.step, 50_000), Timeout: 5 * time.Second,
		BeforeStep: func(int, load.Step) { _, _ = stage.FetchAdvice(ctx, first.URL()) }, // start the server's reading here
		OnStep: func(s load.StepResult) {
			adv, err := stage.FetchAdvice(ctx, first.URL())
			if err != nil {
				return
			}
			rep.Signals = append(rep.Signals, stage.SignalsOf(s.Step, adv))
		},
	})
	if err != nil {
		return err
	}
	rep.Load = res
	q1 := e.data.count.Counts()
	f1, err := e.web.feedStats(ctx)
	if err != nil {
		return err
	}
	s1 := e.edge.Stats()
	requests := res.Setup.Requests
	for _, s := range res.Steps {
		requests += s.Requests
	}
	queries := q1.Queries() - q0.Queries()
	reads, loads := f1.Reads-f0.Reads, f1.Loads-f0.Loads
	hits, misses := s1.Hits-s0.Hits, s1.Misses-s0.Misses
	bypassed := s1.Bypassed - s0.Bypassed
	rep.Figures.DBQueriesPerRequest = stage.PerRequest(queries, requests)
	if reads > 0 {
		rep.Figures.CacheHitRatio = stage.Some(1 - ratio(loads, reads))
	}
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("database: %d queries for %d requests (%.2f per request); feed reads %d, %d of them loaded from the database: cache hit ratio %s",
			queries, requests, ratio(queries, int64(requests)), reads, loads, load.Percent(1-ratio(loads, reads))),
		fmt.Sprintf("edge during the API load: %d hits, %d misses, %d passed through uncacheable (the API says no-store), %d requests reached the origin",
			hits, misses, bypassed, e.origin.requests.Load()-o0))
	if n := len(rep.Signals); n > 0 {
		for _, m := range rep.Signals[n-1].Moves {
			rep.Notes = append(rep.Notes, "the web server's own advisor at the top step: "+m.String())
		}
	}
	return nil
}

// stamp gives a drill its wall-clock time (the ladder's timeline), if it
// did not record one: its At is since loadStart.
func stamp(d *stage.Drill, loadStart time.Time) {
	if d.When.IsZero() {
		d.When = loadStart.Add(d.At)
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// moveLine is the "move now because…" line, from the numbers the drills
// measured: the cache and the edge take the repeated reads, but every
// write and uncacheable read still crosses the distance to one region.
func moveLine(rep *stage.Report) string {
	num := func(drill, key string) float64 {
		for _, d := range rep.Drills {
			if d.Name == drill {
				return d.Numbers[key]
			}
		}
		return 0
	}
	var p50 time.Duration
	if rep.Load != nil && len(rep.Load.Steps) > 0 {
		p50 = rep.Load.Steps[len(rep.Load.Steps)-1].P50
	}
	return fmt.Sprintf("move now: 05-multi-dc-sharding (an origin near the users, writes split by key), because reads are absorbed "+
		"(a hot key's expiry cost %.0f database queries with protection, %.0f without; the edge took %.0f%% of the page-view requests) "+
		"but every write and uncacheable read still crosses the distance to the single region: API p50 %v through the edge at %v RTT",
		num(drillStampede, "protected_queries_max"), num(drillStampede, "naive_queries_max"),
		100*num(drillEdge, "edge_offload"), load.Round(p50), time.Duration(num(drillEdge, "rtt_seconds")*float64(time.Second)),
	)
}
