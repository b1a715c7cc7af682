// Package queueworkers is example 06-queue-workers: signups drop a welcome e-mail job on a queue
// instead of sending the mail inside the request. A flood of signups is
// absorbed (the queue's depth and oldest age rise), sent at the rate the
// mail provider allows (queue.Rate, shared by every worker) and drained;
// the workers are separate processes, scaled apart from the web tier; and a
// worker SIGKILLed in the middle of its jobs loses none of them: their
// leases expire and another worker sends them. Every send is recorded in
// Redis, so the count is checked against the signups: 0 lost, duplicates
// (a worker killed after sending and before acknowledging) reported.
//
//	go run ./examples/06-queue-workers                          # embedded miniredis
//	go run ./examples/06-queue-workers -redis 127.0.0.1:6379    # a Redis server (or LADDER_REDIS_ADDR)
//	go run ./examples/06-queue-workers -quick
package queueworkers

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/load"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/observe"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// Run runs the example (or, in a child process, its role) with the
// command-line arguments args and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, stdout, stderr)
}

type config struct {
	quick    bool
	redis    string
	prefix   string // Redis key prefix of this run
	signups  int
	rate     int
	perWkr   int
	latency  time.Duration
	kdfIter  int
	jsonPath string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("06-queue-workers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	fs.BoolVar(&c.quick, "quick", false, "a short run (for tests)")
	fs.StringVar(&c.redis, "redis", os.Getenv("LADDER_REDIS_ADDR"), "Redis address host:port (default $LADDER_REDIS_ADDR); empty runs an embedded miniredis")
	fs.StringVar(&c.prefix, "prefix", "", "Redis key prefix (default: a fresh one per run)")
	fs.IntVar(&c.signups, "signups", 0, "signups in the flood (default 1500; -quick 200)")
	fs.IntVar(&c.rate, "rate", 0, "mails a second the provider accepts, across all workers (default 300; -quick 400)")
	fs.IntVar(&c.perWkr, "concurrency", 4, "mails one worker process sends at once")
	fs.DurationVar(&c.latency, "latency", 25*time.Millisecond, "how long one send takes")
	fs.IntVar(&c.kdfIter, "kdf-iter", 0, "PBKDF2 iterations per password hash (0: 1,000 here, so that 2 cores can sign up a flood; production: 600,000)")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file (- for stdout)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := stage.CheckOutput(c.jsonPath); err != nil {
		return c, fmt.Errorf("-json: %w", err) // before the run, not after it
	}
	def := func(v *int, full, quick int) {
		if *v == 0 {
			*v = full
			if c.quick {
				*v = quick
			}
		}
	}
	def(&c.signups, 1500, 200)
	def(&c.rate, 300, 400)
	// Signups hash a password; at the production cost (600,000 PBKDF2
	// iterations) two cores sign up about 8 users a second, no flood. This
	// example is about the queue, so it hashes cheaply unless told otherwise
	// and says so in its output.
	def(&c.kdfIter, app.MinKDFIterations, app.MinKDFIterations)
	switch {
	case c.signups < 1 || c.signups > 100_000:
		return c, fmt.Errorf("-signups %d: want 1 to 100,000", c.signups)
	case c.rate < 1 || c.rate > 100_000:
		return c, fmt.Errorf("-rate %d: want 1 to 100,000", c.rate)
	case c.perWkr < 1 || c.perWkr > 1000:
		return c, fmt.Errorf("-concurrency %d: want 1 to 1000", c.perWkr)
	case c.latency < 0 || c.latency > 10*time.Second:
		return c, fmt.Errorf("-latency %v: want 0 to 10s", c.latency)
	case c.kdfIter < app.MinKDFIterations || c.kdfIter > 10*app.DefaultKDFIterations: // above, one hash takes seconds: the load measures nothing but the KDF
		return c, fmt.Errorf("-kdf-iter %d: want 0 or %d to %d", c.kdfIter, app.MinKDFIterations, 10*app.DefaultKDFIterations)
	}
	return c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "06-queue-workers:", err)
		return 2
	}
	if proc.Role() == "worker" {
		if err := work(ctx, c, stderr); err != nil {
			fmt.Fprintln(stderr, "worker:", err)
			return 1
		}
		return 0
	}
	if err := walk(ctx, c, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "06-queue-workers:", err)
		return 1
	}
	return 0
}

func sentKey(prefix string) string { return prefix + ":sent" }

// work is one worker process: it sends welcome mails from the queue and
// records each send in Redis (HINCRBY sent <name> 1).
func work(ctx context.Context, c config, stderr io.Writer) error {
	rdb, err := app.OpenRedis(ctx, c.redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	backend, err := redisqueue.New(rdb, redisqueue.Options{Prefix: c.prefix, Logger: logger})
	if err != nil {
		return err
	}
	mailer, err := app.NewMailer(app.MailerOptions{
		Latency: c.latency,
		Sink: func(ctx context.Context, m app.Sent) error {
			return rdb.HIncrBy(ctx, sentKey(c.prefix), m.To, 1).Err()
		},
	})
	if err != nil {
		return err
	}
	var h queue.Handlers
	if err := app.RegisterMailer(&h, mailer); err != nil {
		return err
	}
	w, err := queue.NewWorker(backend, &h, queue.WorkerOptions{
		Queues: map[string]queue.QueueOptions{app.MailQueue: {
			Concurrency: c.perWkr,
			Rate:        queue.Rate{N: c.rate, Per: time.Second}, // the provider's limit, shared by every worker
		}},
		Lease:           time.Second, // a killed worker's jobs run elsewhere within a second
		PollInterval:    50 * time.Millisecond,
		ShutdownTimeout: 2 * time.Second,
		Logger:          logger,
	})
	if err != nil {
		return err
	}
	proc.Announce(w.ID())
	return w.Run(ctx)
}

func walk(ctx context.Context, c config, stdout, stderr io.Writer) error {
	ran := "Redis at " + c.redis + " (redisqueue)"
	if c.redis == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("miniredis: %w", err)
		}
		defer mr.Close()
		c.redis = mr.Addr()
		ran = "miniredis, embedded in this process (real RESP on " + c.redis + "), redisqueue"
	}
	if c.prefix == "" {
		c.prefix = "ladder-ex06-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	rdb, err := app.OpenRedis(ctx, c.redis)
	if err != nil {
		return err
	}
	defer rdb.Close()
	defer cleanup(rdb, c.prefix) // a shared Redis keeps nothing of this run
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	backend, err := redisqueue.New(rdb, redisqueue.Options{Prefix: c.prefix, Logger: logger})
	if err != nil {
		return err
	}
	client, err := queue.NewClient(backend, queue.ClientOptions{})
	if err != nil {
		return err
	}

	// The web tier, in this process: signups enqueue and return.
	dir, err := stage.TempDir("06") // removes what SIGKILLed runs left
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := app.OpenSQLite(filepath.Join(dir, "app.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	counted := app.Count(store) // database queries per request
	web, err := app.New(app.Config{Store: counted, Queue: client, SessionOptions: app.LoopbackSessionOptions(), KDFIterations: c.kdfIter, Logger: logger})
	if err != nil {
		return err
	}
	defer web.Close()
	webURL, stopWeb, err := proc.ServeLocal(ctx, web)
	if err != nil {
		return err
	}
	defer stopWeb()

	rep := &stage.Report{
		Stage: "06-queue-workers",
		Title: "welcome mails through a queue, sent by separate worker processes",
		Ran: map[string]string{"queue": ran, "web": "this process, " + webURL,
			"kdf":     fmt.Sprintf("PBKDF2-HMAC-SHA256, %d iterations (cheap, so the flood is a flood; the app's default is %d)", c.kdfIter, app.DefaultKDFIterations),
			"workers": fmt.Sprintf("child processes, %d sends at once each, %d mails/s shared limit, %v per send", c.perWkr, c.rate, c.latency)},
	}
	rep.PrintHeader(stdout)

	group, err := proc.NewGroup(proc.Options{Stderr: stderr})
	if err != nil {
		return err
	}
	defer group.Close()
	args := []string{"-redis", c.redis, "-prefix", c.prefix, "-rate", strconv.Itoa(c.rate),
		"-concurrency", strconv.Itoa(c.perWkr), "-latency", c.latency.String()}
	startWorker := func(n int) (*proc.Child, error) {
		return group.Start(ctx, proc.Spec{Name: "worker-" + strconv.Itoa(n), Role: "worker", Args: args})
	}
	w1, err := startWorker(1)
	if err != nil {
		return err
	}

	// Depth and age, sampled while the flood comes in and drains.
	begin := time.Now()
	var (
		mu      sync.Mutex
		samples []sample
		workers = 1
	)
	sampCtx, stopSamp := context.WithCancel(ctx)
	var sampWG sync.WaitGroup
	sampWG.Go(func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			st, err := client.Stats(sampCtx, app.MailQueue)
			if err == nil {
				s := sample{at: time.Since(begin), ready: st.Ready + st.Scheduled, running: st.Running}
				if !st.Oldest.IsZero() {
					s.age = time.Since(st.Oldest)
				}
				s.sent, _ = sentCount(sampCtx, rdb, c.prefix)
				mu.Lock()
				s.workers = workers
				samples = append(samples, s)
				mu.Unlock()
			}
			select {
			case <-sampCtx.Done():
				return
			case <-t.C:
			}
		}
	})
	defer func() { stopSamp(); sampWG.Wait() }()

	// 1. The flood: signups as fast as 16 users can make them.
	floodDone := make(chan struct{})
	var res *load.Result
	var floodErr error
	go func() {
		defer close(floodDone)
		res, floodErr = load.Run(ctx, load.Options{
			BaseURL: webURL, Users: 1, Mix: load.Mix{Signup: 1},
			Steps: []load.Step{{Workers: 16, Duration: 30 * time.Second, MaxRequests: c.signups - 1}},
		})
	}()

	// 2. Once the flood is in, scale the workers apart from the web tier:
	// a second worker process. 3. Halfway through the backlog, SIGKILL
	// worker 1 while jobs are leased (in the middle of sends).
	sentSoFar := func() int { n, _ := sentCount(ctx, rdb, c.prefix); return n }
	signupsSoFar := func() int { return int(web.Stats().Signups) }
	var (
		running  queue.BackendStats
		killAt   time.Duration
		floodEnd time.Duration
		flooded  bool
		w2       *proc.Child
	)
	for step := 0; step < 2; {
		select {
		case <-floodDone:
			if !flooded {
				flooded, floodEnd = true, time.Since(begin)
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		st, err := client.Stats(ctx, app.MailQueue)
		if err != nil {
			return err
		}
		switch {
		case step == 0 && flooded: // the operator sees the backlog and adds a worker
			if w2, err = startWorker(2); err != nil {
				return err
			}
			mu.Lock()
			workers = 2
			mu.Unlock()
			step++
		case step == 1 && (st.Running > 0 && sentSoFar() >= signupsSoFar()/2 || st.Ready+st.Running == 0):
			running, killAt = st, time.Since(begin)
			if err := w1.Kill(); err != nil {
				return err
			}
			mu.Lock()
			workers = 1
			mu.Unlock()
			step++
		}
	}
	_ = w2
	<-floodDone
	if !flooded {
		floodEnd = time.Since(begin)
	}
	if floodErr != nil {
		return floodErr
	}
	rep.Load = res

	// 4. Wait until every signup's mail is sent (bounded). The web tier's
	// own count of signups is the truth: a signup whose reply the load
	// generator stopped waiting for (its step ended) still happened.
	users := res.Users
	signups := int(web.Stats().Signups)
	deadline := time.Now().Add(time.Duration(signups)*time.Second/time.Duration(c.rate) + 30*time.Second)
	var distinct, total int
	for {
		distinct, total, err = sentCount2(ctx, rdb, c.prefix)
		if err != nil {
			return err
		}
		st, err := client.Stats(ctx, app.MailQueue)
		if err != nil {
			return err
		}
		if distinct >= signups && st.Ready+st.Scheduled+st.Running == 0 {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	drained := time.Since(begin)
	time.Sleep(200 * time.Millisecond) // one more sample at zero
	stopSamp()
	sampWG.Wait()

	lost := 0
	sent, err := rdb.HGetAll(ctx, sentKey(c.prefix)).Result()
	if err != nil {
		return err
	}
	for _, u := range users {
		if sent[u] == "" {
			lost++
		}
	}
	lost = max(lost, signups-distinct)
	dups := total - distinct

	fmt.Fprintf(stdout, "   flood: %d signups in %v (%.0f/s, p99 %v, errors %s): the web tier only enqueued\n",
		len(res.Users), floodEnd.Round(time.Millisecond), res.Steps[0].Throughput, load.Round(res.Steps[0].P99), load.Percent(res.Steps[0].ErrorRate))
	fmt.Fprintf(stdout, "   %7s %8s %8s %8s %8s %8s\n", "t", "workers", "waiting", "running", "oldest", "sent")
	mu.Lock()
	stride := max(3, len(samples)/24) // about 25 rows
	for i, s := range samples {
		if i%stride != 0 && i != len(samples)-1 {
			continue
		}
		fmt.Fprintf(stdout, "   %7v %8d %8d %8d %8v %8d\n", s.at.Round(100*time.Millisecond), s.workers, s.ready, s.running, s.age.Round(10*time.Millisecond), s.sent)
	}
	peak := sample{}
	var oldest time.Duration // the oldest age's own peak: it comes late, as the depth falls
	var growth, busy float64 // the age's fastest rise over a second; the workers' send slots in use
	for i, s := range samples {
		if s.ready > peak.ready {
			peak = s
		}
		oldest = max(oldest, s.age)
		for j := i - 1; j >= 0; j-- {
			if dt := s.at - samples[j].at; dt >= time.Second {
				growth = max(growth, (s.age-samples[j].age).Seconds()/dt.Seconds())
				break
			}
		}
		if s.workers > 0 {
			// Leases still held for a worker being stopped count as
			// running too, so the share can pass 1: every slot was busy.
			busy = max(busy, min(1, float64(s.running)/float64(s.workers*c.perWkr)))
		}
	}
	mu.Unlock()
	sendRate := float64(total) / (drained - 0).Seconds()
	rep.Figures = stage.Figures{
		DBQueriesPerRequest: stage.PerRequest(counted.Counts().Queries(), stage.Requests(res)),
		QueueDepth:          stage.Some(peak.ready),
		QueueOldestAge:      stage.Some(oldest),
	}
	rep.Drills = append(rep.Drills,
		stage.Drill{
			Name: "flood absorbed and drained", When: begin, Holds: distinct >= len(users),
			Outcome: fmt.Sprintf("%d signups answered in %v; the queue peaked at %d waiting, its oldest job waited at most %v; drained in %v at %.0f mails/s (limit %d/s)",
				signups, floodEnd.Round(time.Millisecond), peak.ready, oldest.Round(10*time.Millisecond), drained.Round(time.Millisecond), sendRate, c.rate),
			Numbers: map[string]float64{"signups": float64(len(users)), "peak_waiting": float64(peak.ready), "peak_oldest_seconds": oldest.Seconds(), "drain_seconds": drained.Seconds(), "mails_per_second": sendRate},
		},
		stage.Drill{
			Name: "worker SIGKILLed mid-job", At: killAt, When: begin.Add(killAt), Holds: lost == 0 && distinct == signups,
			Outcome: fmt.Sprintf("killed worker-1 with %d jobs leased; mails sent to %d of %d new users, %d lost, %d duplicates (sent again after the kill: at-least-once)",
				running.Running, distinct, signups, lost, dups),
			Numbers: map[string]float64{"lost": float64(lost), "duplicates": float64(dups), "sent": float64(distinct), "signups": float64(signups), "leased_at_kill": float64(running.Running)},
		})
	rep.PrintDrills(stdout)
	// The queue's gauges live in the worker processes: the advisor's
	// queue rule runs here on the same numbers, read from the backend.
	move, why := stage.RuleOn("queue-workers", observe.Signals{
		observe.SigQueueAge: oldest.Seconds(), observe.SigQueueAgeGrowth: growth, observe.SigQueueReady: float64(peak.ready),
	})
	rep.Move = move
	if why != "" {
		bound := fmt.Sprintf("; the workers' send slots were all busy at the peak (%s): a longer flood would keep the age rising until the rule fires", load.Percent(busy))
		if busy < 1 {
			bound = fmt.Sprintf("; the drain was bound by the provider's limit (%d mails/s), not by the workers, whose send slots were at most %s busy: more workers would not send faster", c.rate, load.Percent(busy))
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("advisor: no move: the queue peaked at %d waiting, its oldest job at %v, rising at most %.2f s/s%s; %s",
			peak.ready, oldest.Round(10*time.Millisecond), growth, bound, why))
	}
	return rep.Finish(stdout, "number to watch: the queue's oldest age — rising while it stays above your delivery promise means add workers.", c.jsonPath)
}

type sample struct {
	at             time.Duration
	workers        int
	ready, running int64
	age            time.Duration
	sent           int
}

func sentCount(ctx context.Context, rdb *redis.Client, prefix string) (int, error) {
	n, err := rdb.HLen(ctx, sentKey(prefix)).Result()
	return int(n), err
}

// sentCount2 returns the distinct recipients and the total sends.
func sentCount2(ctx context.Context, rdb *redis.Client, prefix string) (distinct, total int, err error) {
	m, err := rdb.HGetAll(ctx, sentKey(prefix)).Result()
	if err != nil {
		return 0, 0, err
	}
	for _, v := range m {
		n, _ := strconv.Atoi(v)
		total += n
	}
	return len(m), total, nil
}

// cleanup deletes this run's keys: the sends and the queue's keys (which
// redisqueue puts under "{<prefix>:<queue>}"), within 5 s.
func cleanup(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	keys := []string{sentKey(prefix)}
	for _, pattern := range []string{"{" + prefix + ":*", prefix + ":*"} {
		iter := rdb.Scan(ctx, 0, pattern, 500).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
	}
	for i := 0; i < len(keys); i += 500 {
		rdb.Del(ctx, keys[i:min(i+500, len(keys))]...)
	}
}
