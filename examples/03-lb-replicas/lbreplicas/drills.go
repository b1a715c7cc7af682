package lbreplicas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric/noop"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/observe"
)

// env is what the drills act on.
type env struct {
	c      config
	web    *webTier // the lb and its web servers
	data   *dataTier
	tel    *stage.Telemetry
	group  *proc.Group
	logger *slog.Logger
}

const tick = 50 * time.Millisecond // the load timeline's resolution in the drills

// failed counts a step's failed reads (idempotent: the proxy may retry
// them elsewhere) and failed writes (POSTs).
func failed(s load.StepResult) (reads, writes int) {
	for op, st := range s.ByOp {
		switch op {
		case load.OpFeed, load.OpUserPosts:
			reads += st.Errors
		default:
			writes += st.Errors
		}
	}
	return reads, writes
}

func totals(res *load.Result) (requests, reads, writes int) {
	for _, s := range res.Steps {
		r, w := failed(s)
		requests, reads, writes = requests+s.Requests, reads+r, writes+w
	}
	return
}

// 1. SIGKILL one web server under load.
func (e *env) killDrill(ctx context.Context) (stage.Drill, error) {
	c, web := e.c, e.web
	victim := web.servers()[0]
	workers := c.web * c.slots * 2
	_, dupBefore, err := e.data.countPosts(ctx)
	if err != nil {
		return stage.Drill{}, fmt.Errorf("kill drill: %w", err)
	}
	res, err := underLoad(ctx, web.url, load.Options{Users: 8, Interval: tick, Timeout: 3 * time.Second,
		Steps: []load.Step{{Workers: workers, Duration: 4 * c.step, MaxRequests: 200_000}}}, c.step, func() error {
		return victim.Kill()
	})
	if err != nil {
		return stage.Drill{}, fmt.Errorf("kill drill: %w", err)
	}
	// Bring it back for the next drills.
	if err := victim.Restart(ctx); err != nil {
		return stage.Drill{}, err
	}
	if err := web.update(); err != nil { // its port may have moved
		return stage.Drill{}, err
	}
	if err := web.waitStatus(ctx, victim.Name(), health.StatusUp, 10*time.Second); err != nil {
		return stage.Drill{}, err
	}
	n, reads, writes := totals(res)
	// Each logical POST of the load has a body of its own ("post N by
	// user #virtual-user"): one stored twice shows as a repeated (author,
	// body).
	_, dupAfter, err := e.data.countPosts(ctx)
	if err != nil {
		return stage.Drill{}, fmt.Errorf("kill drill: %w", err)
	}
	twice := int(dupAfter - dupBefore)
	okPosts := 0
	for _, s := range res.Steps {
		okPosts += s.ByOp[load.OpPost].Requests - s.ByOp[load.OpPost].Errors
	}
	return stage.Drill{
		Name:  "SIGKILL a web server under load",
		At:    c.step,
		Holds: n > 0 && reads+writes == 0 && twice == 0,
		Outcome: fmt.Sprintf("%s SIGKILLed with %d users on %d servers: %d requests, %d failed (%d reads, %d POSTs), %d POSTs stored once each, %d twice "+
			"(every POST carries an Idempotency-Key: the proxy resends one the dead server had received, and the data tier, which records the key with the post "+
			"in one transaction, stores it once); p99 %v",
			victim.Name(), workers, c.web, n, reads+writes, reads, writes, okPosts, twice, load.Round(res.Steps[0].P99)),
		Numbers: map[string]float64{"requests": float64(n), "failed_reads": float64(reads), "failed_posts": float64(writes), "posts_stored_twice": float64(twice)},
	}, nil
}

// 2. Restart every web server, one at a time, under load: drain (readiness
// fails, the prober takes it out, in-flight requests finish, it exits), start
// it again on its port, wait until the prober has it back, next.
func (e *env) rollingDrill(ctx context.Context) (stage.Drill, error) {
	c, web := e.c, e.web
	servers := web.servers()
	workers := c.web * c.slots * 2
	per := drainDelay + 2*time.Second
	var took []time.Duration
	res, err := underLoad(ctx, web.url, load.Options{Users: 8, Interval: tick, Timeout: 3 * time.Second,
		Steps: []load.Step{{Workers: workers, Duration: 2*c.step + time.Duration(len(servers))*per, MaxRequests: 500_000}}}, c.step, func() error {
		for _, s := range servers {
			start := time.Now()
			if err := s.Stop(); err != nil {
				return err
			}
			if err := s.Restart(ctx); err != nil {
				return err
			}
			if err := web.update(); err != nil {
				return err
			}
			if err := web.waitStatus(ctx, s.Name(), health.StatusUp, 10*time.Second); err != nil {
				return err
			}
			took = append(took, time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
	if err != nil {
		return stage.Drill{}, fmt.Errorf("rolling restart: %w", err)
	}
	n, reads, writes := totals(res)
	return stage.Drill{
		Name:  "rolling restart under load",
		At:    c.step,
		Holds: n > 0 && reads+writes == 0,
		Outcome: fmt.Sprintf("%d servers restarted one at a time (drain → exit → start → ready: %v) with %d users: %d requests, %d failed (%d reads, %d POSTs); p99 %v",
			len(servers), took, workers, n, reads+writes, reads, writes, load.Round(res.Steps[0].P99)),
		Numbers: map[string]float64{"requests": float64(n), "failed": float64(reads + writes)},
	}, nil
}

// 3. Load rises past what the servers' slots absorb: requests queue at the
// servers, the proxy's in-flight requests per server rise, the advisor's
// web-tier rule fires and its scaler adds a server. Load falls: the scaler
// takes one out of the pool and drains it.
func (e *env) autoscaleDrill(ctx context.Context) (stage.Drill, error) {
	c, web := e.c, e.web
	tel := e.tel
	logger := e.logger
	rule := observe.Rule{}
	for _, r := range observe.DefaultRules {
		if r.ID == "web-tier" {
			rule = r
		}
	}
	if rule.ID == "" {
		return stage.Drill{}, errors.New("observe has no web-tier rule")
	}
	// The default fires at 32 requests in flight per server (servers with
	// hundreds of threads); these servers have c.slots slots each: it fires
	// when every slot is taken on average, so requests start to queue.
	up := float64(c.slots)
	rule.When = slices.Clone(rule.When)
	for i := range rule.When {
		if rule.When[i].Signal == observe.SigLBInflight {
			rule.When[i].Threshold = up
		}
	}
	var mu sync.Mutex
	var events []string
	var ups, downs atomic.Int64
	var firedLine string
	start := time.Now()
	note := func(s string) {
		mu.Lock()
		events = append(events, fmt.Sprintf("%s at %v", s, time.Since(start).Round(100*time.Millisecond)))
		mu.Unlock()
	}
	cooldown := c.step * 3 / 2
	adv, err := observe.NewAdvisor(tel.Tel.Reader, observe.AdvisorOptions{
		Rules: []observe.Rule{rule},
		Scalers: []observe.Scaler{{
			Name: "web", Rule: rule.ID, Signal: observe.SigLBInflight, Below: float64(c.slots) / 2,
			Sustain: 2, Cooldown: cooldown,
			Up: func(ctx context.Context) error {
				if len(web.servers()) >= c.maxWeb {
					return nil
				}
				ch, err := web.add(ctx)
				if err != nil {
					return err
				}
				ups.Add(1)
				note("+" + ch.Name())
				return nil
			},
			Down: func(ctx context.Context) error {
				s := web.servers()
				if len(s) <= c.web {
					return nil
				}
				if err := web.remove(); err != nil {
					return err
				}
				downs.Add(1)
				note("-" + s[len(s)-1].Name())
				return nil
			},
		}},
		Logger: logger,
	})
	if err != nil {
		return stage.Drill{}, err
	}
	// As many users as the largest pool has slots: queueing on c.web
	// servers, none once the scaler has added all it may.
	high := c.maxWeb * c.slots
	actx, stopAdv := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopAdv(); wg.Wait() }()
	// Reads only: a post's followers wait for the replica to replay it
	// (read-your-writes), and that wait (-lag) is not the web tier's.
	res, err := load.Run(ctx, load.Options{BaseURL: web.url, Users: 8, Interval: tick, Timeout: 5 * time.Second,
		Mix: load.Mix{Feed: 90, UserPosts: 10},
		Steps: []load.Step{
			{Workers: high, Duration: 2 * c.step, MaxRequests: 200_000}, // before: c.web servers
			{Workers: high, Duration: 5 * c.step, MaxRequests: 500_000}, // the advisor acts
			{Workers: high, Duration: 3 * c.step, MaxRequests: 300_000}, // after
			{Workers: 2, Duration: 6 * c.step, MaxRequests: 200_000},    // load falls
		},
		BeforeStep: func(n int, _ load.Step) {
			if n != 2 {
				return
			}
			_, _ = adv.Evaluate(actx) // the baseline for rates
			wg.Go(func() {
				t := time.NewTicker(200 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-actx.Done():
						return
					case <-t.C:
					}
					rep, err := adv.Evaluate(actx)
					if err == nil && firedLine == "" && len(rep.Advice) > 0 {
						mu.Lock()
						firedLine = stage.AdviceOf(rep).Moves[0].String()
						mu.Unlock()
					}
				}
			})
		},
	})
	stopAdv()
	wg.Wait()
	if err != nil {
		return stage.Drill{}, fmt.Errorf("autoscale drill: %w", err)
	}
	n, reads, writes := totals(res)
	before, after := res.Steps[0], res.Steps[2]
	rec := fmt.Sprintf("p99 recovered: %.0f %% of before", 100*after.P99.Seconds()/before.P99.Seconds())
	if after.P99 > before.P99*4/5 {
		rec = fmt.Sprintf("p99 did NOT recover (%.0f %% of before): the servers' slots were not what bound this run; the cores every process shares or the database did", 100*after.P99.Seconds()/before.P99.Seconds())
	}
	mu.Lock()
	defer mu.Unlock()
	return stage.Drill{
		Name:  "autoscale on the advisor's web-tier rule",
		At:    before.Elapsed,
		Holds: n > 0 && ups.Load() >= 1 && downs.Load() >= 1 && reads+writes == 0,
		Outcome: fmt.Sprintf("%d users on %d servers: p50 %v, p99 %v, %.0f req/s; the rule (%s ≥ %.0f) fired: %q; scaler %v; after: %d users, p50 %v, p99 %v, %.0f req/s (%s); "+
			"load fell to 2 users: %d server(s) removed (out of the pool, then drained), %d left; %d requests, %d failed",
			high, c.web, load.Round(before.P50), load.Round(before.P99), before.Throughput, observe.SigLBInflight, up, firedLine, events,
			high, load.Round(after.P50), load.Round(after.P99), after.Throughput, rec,
			downs.Load(), len(web.servers()), n, reads+writes),
		Numbers: map[string]float64{"p99_before_seconds": before.P99.Seconds(), "p99_after_seconds": after.P99.Seconds(),
			"added": float64(ups.Load()), "removed": float64(downs.Load()), "failed": float64(reads + writes), "requests": float64(n)},
	}, nil
}

// 4. A user posts and at once reads their own posts, through the load
// balancer (each request may land on another server), with the naive split
// (reads on the replica whatever was just written) and with read-your-writes
// (the router's causal wait, its token carried in a cookie).
func (e *env) readYourWritesDrill(ctx context.Context) (stage.Drill, error) {
	c, web := e.c, e.web
	data := e.data
	group := e.group
	logger := e.logger
	off, err := startWeb(ctx, "naive", c, data.url+"/off", c.redis, group, noop.NewMeterProvider(), logger)
	if err != nil {
		return stage.Drill{}, err
	}
	defer off.close()
	n := c.pairs
	type result struct {
		stale int
		p50   time.Duration
	}
	try := func(base string) (result, error) {
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar, Timeout: 5 * time.Second}
		name := "ryw" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
		if err := postJSON(ctx, cl, base+"/api/signup", map[string]string{"name": name, "password": "see-your-post-pw"}); err != nil {
			return result{}, err
		}
		var r result
		var lat []time.Duration
		for i := range n {
			body := fmt.Sprintf("post %d of %s", i, name)
			if err := postJSON(ctx, cl, base+"/api/posts", map[string]string{"body": body}); err != nil {
				return result{}, err
			}
			t0 := time.Now()
			posts, err := userPosts(ctx, cl, base, name)
			if err != nil {
				return result{}, err
			}
			lat = append(lat, time.Since(t0))
			if len(posts) == 0 || posts[0].Body != body {
				r.stale++
			}
		}
		slices.Sort(lat)
		r.p50 = lat[len(lat)/2]
		return r, nil
	}
	naive, err := try(off.url)
	if err != nil {
		return stage.Drill{}, fmt.Errorf("read-your-writes drill (off): %w", err)
	}
	ryw, err := try(web.url)
	if err != nil {
		return stage.Drill{}, fmt.Errorf("read-your-writes drill (on): %w", err)
	}
	lag := "the pair replays each commit " + c.lag.String() + " after it"
	if data.pair == nil {
		lag = "real streaming replication lag"
	}
	return stage.Drill{
		Name:  "just posted, see your post",
		Holds: ryw.stale == 0,
		Outcome: fmt.Sprintf("%d post-then-read pairs through the load balancer (%s): read-your-writes off, %d stale (%s), read p50 %v; "+
			"on (causal wait, token in a cookie, any server), %d stale, read p50 %v (it waits on the replica until it has the post)",
			n, lag, naive.stale, load.Percent(float64(naive.stale)/float64(n)), load.Round(naive.p50), ryw.stale, load.Round(ryw.p50)),
		Numbers: map[string]float64{"pairs": float64(n), "stale_off": float64(naive.stale), "stale_on": float64(ryw.stale)},
	}, nil
}

// 5. Stop the primary under load: the router's probes of it fail, it
// promotes the replica (FailoverCoordinate) and writes move there.
func (e *env) primaryDrill(ctx context.Context) (stage.Drill, error) {
	c, web := e.c, e.web
	data := e.data
	if !data.canStop {
		return stage.Drill{
			Name: "stop the primary", Holds: true,
			Outcome: "not run: the PostgreSQL primary given is not this program's to stop (-pg-stop says how; without it promotion is Patroni's or the operator's, and the router follows it). Run without -pg-primary to see the in-process pair fail over.",
		}, nil
	}
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, Timeout: 5 * time.Second}
	name := "writer" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	if err := postJSON(ctx, cl, web.url+"/api/signup", map[string]string{"name": name, "password": "writes-resume-pw"}); err != nil {
		return stage.Drill{}, fmt.Errorf("primary drill: %w", err)
	}
	var (
		stoppedAt                 time.Time
		firstOKAfter              time.Time
		okBefore, failed, okAfter int
		inFlightOK                int
		what                      string
	)
	wctx, stopW := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var mu sync.Mutex
	wg.Go(func() { // one user posting every 10 ms
		for i := 0; wctx.Err() == nil; i++ {
			mu.Lock()
			sentBefore := stoppedAt.IsZero()
			mu.Unlock()
			err := postJSON(wctx, cl, web.url+"/api/posts", map[string]string{"body": "write " + strconv.Itoa(i)})
			now := time.Now()
			mu.Lock()
			switch {
			case wctx.Err() != nil:
			case sentBefore && stoppedAt.IsZero():
				if err == nil {
					okBefore++
				}
			case sentBefore: // in flight when the primary stopped
				if err == nil {
					inFlightOK++
				} else {
					failed++
				}
			case err != nil:
				failed++
				firstOKAfter = time.Time{}
			default:
				okAfter++
				if firstOKAfter.IsZero() {
					firstOKAfter = now
				}
			}
			mu.Unlock()
			time.Sleep(10 * time.Millisecond)
		}
	})
	res, err := underLoad(ctx, web.url, load.Options{Users: 4, Interval: tick, Timeout: 5 * time.Second,
		Steps: []load.Step{{Workers: 4, Duration: 5 * c.step, MaxRequests: 200_000}}}, c.step, func() error {
		mu.Lock()
		stoppedAt = time.Now()
		mu.Unlock()
		var err error
		what, err = data.stopPrimary(ctx)
		return err
	})
	// Let the writer run until writes have resumed for a while (bounded).
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && ctx.Err() == nil; time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		ok := okAfter >= 20
		mu.Unlock()
		if ok {
			break
		}
	}
	stopW()
	wg.Wait()
	if err != nil {
		return stage.Drill{}, fmt.Errorf("primary drill: %w", err)
	}
	var writer string
	for _, s := range data.on.Status() {
		if s.Writer {
			writer = fmt.Sprintf("%s (timeline %d)", s.Name, s.State.Timeline)
		}
	}
	// The outage: from the stop to the first success of a write sent after
	// it (a write already in flight may still commit on the old primary).
	outage := time.Duration(0)
	if !firstOKAfter.IsZero() {
		outage = firstOKAfter.Sub(stoppedAt)
	}
	n, reads, _ := totals(res)
	return stage.Drill{
		Name:  "stop the primary",
		At:    c.step,
		Holds: okAfter > 0 && writer != "" && writer[:7] != "primary",
		Outcome: fmt.Sprintf("%s; "+
			"the router promoted the replica after %d failed probes every %v: writes now go to %s; write outage %v (the first write sent after the stop that succeeded; %d POSTs failed, %d ok before, %d in flight at the stop and ok, %d ok after); "+
			"reads meanwhile: %d requests, %d failed",
			what, 3, data.probeInt, writer, outage.Round(time.Millisecond), failed, okBefore, inFlightOK, okAfter, n, reads),
		Numbers: map[string]float64{"outage_seconds": outage.Seconds(), "failed_writes": float64(failed), "writes_after": float64(okAfter),
			"failed_reads": float64(reads)},
	}, nil
}

func postJSON(ctx context.Context, cl *http.Client, u string, v any) error {
	b, _ := json.Marshal(v)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: HTTP %d", u, resp.StatusCode)
	}
	return nil
}

func userPosts(ctx context.Context, cl *http.Client, base, name string) ([]app.Post, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/users/"+url.PathEscape(name)+"/posts?limit=1", nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET posts: HTTP %d", resp.StatusCode)
	}
	var out struct {
		Posts []app.Post `json:"posts"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out); err != nil {
		return nil, err
	}
	return out.Posts, nil
}
