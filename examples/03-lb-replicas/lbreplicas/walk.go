package lbreplicas

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/observe"
)

func walk(ctx context.Context, c config, stdout, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	ranRedis := "Redis at " + c.redis + " (session/redisstore)"
	if c.redis == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("miniredis: %w", err)
		}
		defer mr.Close()
		c.redis = mr.Addr()
		ranRedis = "miniredis, embedded in this process (real RESP on " + c.redis + "), session/redisstore"
	} else {
		rdb, err := app.OpenRedis(ctx, c.redis) // fail fast, with a message, before starting anything
		if err != nil {
			return err
		}
		rdb.Close()
	}
	c.prefix = "ladder-ex03-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"

	tel, err := stage.NewTelemetry(ctx, "03-lb-replicas", 0, stderr, slog.LevelError)
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background())

	data, err := startData(ctx, c, tel.Tel.MeterProvider, logger)
	if err != nil {
		return err
	}
	defer data.close()

	group, err := proc.NewGroup(proc.Options{Stderr: stderr})
	if err != nil {
		return err
	}
	defer group.Close()
	web, err := startWeb(ctx, "web", c, data.url+"/on", c.redis, group, tel.Tel.MeterProvider, logger)
	if err != nil {
		return err
	}
	defer web.close()

	rep := &stage.Report{
		Stage: "03-lb-replicas",
		Title: "a load balancer in front of stateless web servers; a primary and a replica with read-your-writes",
		Ran: map[string]string{
			"lb":       "lb.Proxy in this process, " + web.url + " (least request, /readyz probed every " + probeInterval.String() + ", retries on another backend)",
			"web":      fmt.Sprintf("%d child processes of this binary (examples/app), %d request slots each, %v per API request; drain %v on SIGTERM", c.web, c.slots, c.work, drainDelay),
			"sessions": ranRedis,
			"sql":      data.ran + "; replica.Router (causal wait)",
		},
	}
	rep.PrintHeader(stdout)

	// Rising load, for the numbers; the advisor's rates cover it.
	_, _ = tel.Advisor.Evaluate(ctx)
	queriesBefore := data.counts.Counts().Queries() // count the load's queries only
	res, err := load.Run(ctx, load.Options{BaseURL: web.url, Users: 8, Steps: load.Rising(2, c.web*c.slots, 3, c.step, 50_000)})
	if err != nil {
		return err
	}
	rep.Load = res
	rep.Figures.DBQueriesPerRequest = stage.PerRequest(data.counts.Counts().Queries()-queriesBefore, stage.Requests(res))
	rep.PrintLoad(stdout)
	if ar, err := tel.Advisor.Evaluate(ctx); err == nil {
		a := stage.AdviceOf(ar)
		if len(a.Moves) > 0 {
			rep.Move = a.Moves[0].String()
		} else {
			rep.Notes = append(rep.Notes, fmt.Sprintf("the advisor fired no rule over the rising load (db.read_share %.2f, db.requests.rate %.0f/s, replica.lag %.3fs)",
				a.Signals[observe.SigDBReadShare], a.Signals[observe.SigDBRate], a.Signals[observe.SigReplicaLag]))
		}
	}

	e := &env{c: c, web: web, data: data, tel: tel, group: group, logger: logger}
	for _, f := range []func(context.Context) (stage.Drill, error){
		e.killDrill, e.rollingDrill, e.autoscaleDrill, e.readYourWritesDrill, e.primaryDrill,
	} {
		began := time.Now()
		d, err := f(ctx)
		if err != nil {
			return err
		}
		if d.When.IsZero() { // At is since the drill's load began, shortly after began
			d.When = began.Add(d.At)
		}
		rep.Drills = append(rep.Drills, d)
		(&stage.Report{Drills: []stage.Drill{d}}).PrintDrills(stdout)
	}
	return rep.Finish(stdout, "next: 04-cache-cdn puts a cache in front of the database and an edge in front of the assets.", c.jsonPath)
}

// underLoad runs steady load on url while f runs (after one step of load),
// and returns the load's result and f's error.
func underLoad(ctx context.Context, url string, opts load.Options, warm time.Duration, f func() error) (*load.Result, error) {
	type out struct {
		res *load.Result
		err error
	}
	done := make(chan out, 1)
	started := make(chan struct{})
	opts.BaseURL = url
	before := opts.BeforeStep
	opts.BeforeStep = func(n int, s load.Step) {
		if n == 1 {
			close(started)
		}
		if before != nil {
			before(n, s)
		}
	}
	go func() {
		res, err := load.Run(ctx, opts)
		done <- out{res, err}
	}()
	select {
	case <-started:
	case o := <-done:
		return nil, fmt.Errorf("load did not start: %w", o.err)
	}
	time.Sleep(warm)
	ferr := f()
	o := <-done
	if ferr != nil {
		return nil, ferr
	}
	return o.res, o.err
}
