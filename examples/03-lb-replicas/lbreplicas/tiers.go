package lbreplicas

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/replica"
	"github.com/ladder-go/ladder/replica/pgreplica"
	"github.com/ladder-go/ladder/replica/replicatest"
)

// dataTier is the primary and its replica behind two routers, one with
// read-your-writes (what the web tier uses) and one without (drill 4's
// naive split), each served over HTTP/JSON under its own path.
type dataTier struct {
	ran      string
	pair     *replicatest.Pair // nil on PostgreSQL
	primary  *sql.DB
	rep      *sql.DB
	on, off  *replica.Router
	url      string // base URL; + "/on" or "/off"
	closers  []func()
	probeInt time.Duration
	stop     *stoppable // the pair's primary, as the routers' monitors see it
	canStop  bool
	stopPG   func(context.Context) error
	counts   *app.CountingStore // the read-your-writes store's queries (the web servers' /on)
}

// stoppable is the pair's Positions with a switch that makes the primary's
// old timeline unreachable to the routers' monitors. Drill 5 closes the
// primary's *sql.DB, so that every query the application sends it fails as
// on a stopped server; but a monitor holds one connection of each pool for
// its probes (so a busy pool cannot make a node look dead), and a
// connection already taken from a closed *sql.DB keeps working in process.
// A stopped server would fail those probes too: stopped says so.
type stoppable struct {
	replica.Positions
	stopped  atomic.Bool
	timeline atomic.Uint64 // the stopped primary's
}

func (s *stoppable) State(ctx context.Context, node replica.Querier) (replica.NodeState, error) {
	st, err := s.Positions.State(ctx, node)
	if err == nil && s.stopped.Load() && st.Role == replica.RolePrimary && st.Timeline <= s.timeline.Load() {
		return replica.NodeState{}, errors.New("primary stopped")
	}
	return st, err
}

func (s *stoppable) WritePosition(ctx context.Context, primary replica.Querier) (replica.Position, error) {
	if s.stopped.Load() {
		if st, err := s.Positions.State(ctx, primary); err == nil && st.Timeline <= s.timeline.Load() {
			return 0, errors.New("primary stopped")
		}
	}
	return s.Positions.WritePosition(ctx, primary)
}

// stopPrimary stops the primary and says what the replica had not
// replayed. The pair's: its *sql.DB is closed and the monitors' probes of it
// fail from now on. PostgreSQL's: by -pg-stop (or a test's hook).
func (d *dataTier) stopPrimary(ctx context.Context) (string, error) {
	if d.pair == nil {
		return "a PostgreSQL primary stopped by -pg-stop (what the replica had not received is lost: asynchronous streaming)", d.stopPG(ctx)
	}
	st, err := d.pair.State(ctx, d.primary)
	if err != nil {
		return "", err
	}
	lost := d.pair.Pending()
	d.stop.timeline.Store(st.Timeline)
	d.stop.stopped.Store(true)
	return fmt.Sprintf("the pair's primary closed with %d commits not yet replayed (lost, as asynchronous replication loses them)", lost), d.primary.Close()
}

// countPosts counts the posts on the primary, and those repeating an
// earlier post's author and body.
func (d *dataTier) countPosts(ctx context.Context) (n, repeats int64, err error) {
	err = d.primary.QueryRowContext(ctx, "SELECT count(*), count(*) - count(DISTINCT author || '|' || body) FROM app_posts").Scan(&n, &repeats)
	return n, repeats, err
}

func (d *dataTier) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

func startData(ctx context.Context, c config, mp metric.MeterProvider, logger *slog.Logger) (_ *dataTier, err error) {
	d := &dataTier{probeInt: 100 * time.Millisecond}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	var positions replica.Positions
	dialect := app.SQLite
	if c.pgPrimary != "" {
		// The run's tables live in a schema of its own, dropped at exit
		// (the closer added first runs last): the operator's database is
		// left as found, and two runs at once do not share a feed.
		schema, err := makeSchema(ctx, c.pgPrimary, &d.closers)
		if err != nil {
			return nil, fmt.Errorf("primary: %w", err)
		}
		if d.primary, err = app.OpenPostgres(ctx, c.pgPrimary, app.PostgresOptions{ApplicationName: "ladder-03-lb-replicas", SearchPath: schema}); err != nil {
			return nil, fmt.Errorf("primary: %w", err)
		}
		d.closers = append(d.closers, func() { d.primary.Close() })
		if d.rep, err = app.OpenPostgres(ctx, c.pgReplica, app.PostgresOptions{ApplicationName: "ladder-03-lb-replicas", SearchPath: schema}); err != nil {
			return nil, fmt.Errorf("replica: %w", err)
		}
		d.closers = append(d.closers, func() { d.rep.Close() })
		positions, dialect = pgreplica.Positions{}, app.Postgres
		d.ran = "PostgreSQL primary and streaming replica (-pg-primary/-pg-replica), positions by pgreplica"
	} else {
		if d.pair, err = replicatest.New(replicatest.Options{Delay: c.lag}); err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { d.pair.Close() })
		d.stop = &stoppable{Positions: d.pair}
		d.primary, d.rep, positions = d.pair.Primary(), d.pair.Replica(), d.stop
		d.ran = fmt.Sprintf("replica/replicatest's pair in this process (SQLite primary + a replica replaying its commits %v behind), served over HTTP/JSON", c.lag)
	}
	mk := func(mode replica.ReadYourWrites, failover replica.Failover) (*replica.Router, error) {
		r, err := replica.New(d.primary, []replica.Replica{{Name: "replica", DB: d.rep}}, replica.Options{
			Positions: positions, ReadYourWrites: mode, Failover: failover,
			ProbeInterval: d.probeInt, ProbeTimeout: 500 * time.Millisecond, FailoverAfter: 3,
			Cookie: "-", Logger: logger, MeterProvider: mp,
		})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { r.Close() })
		return r, nil
	}
	// This process holds the only router that writes, so it may promote
	// (FailoverCoordinate is for a single instance). On PostgreSQL it does
	// so only when it may stop the primary (-pg-stop): otherwise promotion
	// is the operator's (Patroni's) job and the router follows it.
	failover := replica.FailoverCoordinate
	if d.pair == nil && c.stopPG == nil {
		failover = replica.FailoverFollow
	}
	d.canStop = d.pair != nil || c.stopPG != nil
	d.stopPG = c.stopPG
	if d.on, err = mk(replica.RYWCausalWait, failover); err != nil {
		return nil, err
	}
	if d.off, err = mk(replica.RYWOff, replica.FailoverOff); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := d.on.Check(cctx); err != nil {
		return nil, err
	}
	storeOn, err := app.NewSQLStore(d.on, nil, dialect)
	if err != nil {
		return nil, err
	}
	if err := storeOn.Migrate(ctx); err != nil {
		return nil, err
	}
	if d.pair != nil {
		if err := d.pair.Sync(cctx); err != nil { // the schema on the replica before any read
			return nil, err
		}
	}
	storeOff, err := app.NewSQLStore(d.off, nil, dialect)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	d.counts = app.Count(storeOn)
	mux.Handle("/on/", http.StripPrefix("/on", d.on.Middleware(app.NewStoreHandler(d.counts))))
	mux.Handle("/off/", http.StripPrefix("/off", d.off.Middleware(app.NewStoreHandler(storeOff))))
	url, stop, err := proc.ServeLocal(ctx, mux)
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, stop)
	d.url = url
	return d, nil
}

// makeSchema creates the run's schema on the PostgreSQL server of dsn (first
// dropping those that SIGKILLed runs left) and adds to closers the function
// that drops it (bounded, whatever ctx has become).
func makeSchema(ctx context.Context, dsn string, closers *[]func()) (string, error) {
	rs, err := app.CreateRunSchema(ctx, dsn, "ladder_ex03_", "ladder-03-lb-replicas-admin")
	if err != nil {
		return "", err
	}
	*closers = append(*closers, func() {
		if err := rs.Drop(context.Background()); err != nil {
			// After a promotion this connection's server is the old
			// primary; the schema stays on the new one, named here (the
			// next run on that server drops it).
			slog.Error("03-lb-replicas: schema left behind", "schema", rs.Name, "err", err)
		}
	})
	return rs.Name, nil
}

// webTier is an lb.Proxy in front of web server processes.
type webTier struct {
	name   string
	c      config
	store  string // the data tier's URL for these servers
	redis  string
	group  *proc.Group
	pool   *lb.Pool[*url.URL]
	prober *health.Prober
	url    string
	stop   []func()

	mu   sync.Mutex
	web  []*proc.Child
	next int
}

// probeInterval and the drain delay: the prober marks a draining server
// down within fall × interval (+ jitter) ≈ 330 ms, well before the drain's
// delay ends.
const (
	probeInterval = 150 * time.Millisecond
	drainDelay    = 700 * time.Millisecond
)

func startWeb(ctx context.Context, name string, c config, storeURL, redisAddr string, group *proc.Group, mp metric.MeterProvider, logger *slog.Logger) (_ *webTier, err error) {
	t := &webTier{name: name, c: c, store: storeURL, redis: redisAddr, group: group}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	t.pool, err = lb.NewPool[*url.URL](nil, lb.PoolOptions{Policy: lb.LeastRequest(), MeterProvider: mp, Logger: logger})
	if err != nil {
		return nil, err
	}
	t.stop = append(t.stop, func() { t.pool.Close() })
	t.prober, err = health.NewProber(health.ProberOptions{Interval: probeInterval, Timeout: 500 * time.Millisecond, Rise: 1, Fall: 2, Logger: logger})
	if err != nil {
		return nil, err
	}
	t.stop = append(t.stop, func() { t.prober.Close() })
	stopProbe, err := lb.ProbeHTTP(t.pool, t.prober, "/readyz", health.HTTPProbeOptions{})
	if err != nil {
		return nil, err
	}
	t.stop = append(t.stop, stopProbe)
	for range c.web {
		if _, err := t.add(ctx); err != nil {
			return nil, err
		}
	}
	// POSTs carrying an Idempotency-Key are resent like GETs when the
	// server that received them dies: the application records the key
	// with the work, so a resend is answered without doing it twice.
	proxy := &lb.Proxy{Pool: t.pool, Logger: logger, Retry: lb.RetryOptions{IdempotencyKeyHeader: app.IdempotencyKeyHeader}}
	if err := proxy.Validate(); err != nil {
		return nil, err
	}
	u, stop, err := proc.ServeLocal(ctx, proxy)
	if err != nil {
		return nil, err
	}
	t.stop = append(t.stop, stop)
	t.url = u
	return t, nil
}

func (t *webTier) close() {
	t.mu.Lock()
	web := t.web
	t.web = nil
	t.mu.Unlock()
	for _, w := range web {
		w.Kill()
	}
	for i := len(t.stop) - 1; i >= 0; i-- {
		t.stop[i]()
	}
}

// add starts one more web server, waits until it listens and puts it in
// the pool.
func (t *webTier) add(ctx context.Context) (*proc.Child, error) {
	t.mu.Lock()
	t.next++
	n := t.next
	t.mu.Unlock()
	ch, err := t.group.Start(ctx, proc.Spec{Name: fmt.Sprintf("%s-%d", t.name, n), Role: "web", Args: []string{
		"-store", t.store, "-redis", t.redis, "-prefix", t.c.prefix, "-kdf-iter", itoa(t.c.kdfIter),
		"-slots", itoa(t.c.slots), "-work", t.c.work.String(), "-drain", drainDelay.String(),
		"-pg-primary=", "-pg-replica=",
	}})
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.web = append(t.web, ch)
	t.mu.Unlock()
	return ch, t.update()
}

func (t *webTier) update() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var bs []lb.Backend[*url.URL]
	for _, w := range t.web {
		u, err := url.Parse(w.URL())
		if err != nil {
			return err
		}
		bs = append(bs, lb.Backend[*url.URL]{Name: w.Name(), Value: u})
	}
	return t.pool.Update(bs)
}

// remove takes the newest server out of the pool, then drains it (SIGTERM:
// it finishes what it has in flight and exits).
func (t *webTier) remove() error {
	t.mu.Lock()
	if len(t.web) == 0 {
		t.mu.Unlock()
		return errors.New("no web server to remove")
	}
	w := t.web[len(t.web)-1]
	t.web = t.web[:len(t.web)-1]
	t.mu.Unlock()
	if err := t.update(); err != nil {
		return err
	}
	return w.Stop()
}

func (t *webTier) servers() []*proc.Child {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.web)
}

// waitStatus waits until the prober says name is want (bounded).
func (t *webTier) waitStatus(ctx context.Context, name string, want health.Status, within time.Duration) error {
	end := time.Now().Add(within)
	for {
		if st, ok := t.prober.Status(name); ok && st == want {
			return nil
		}
		if time.Now().After(end) {
			st, _ := t.prober.Status(name)
			return fmt.Errorf("%s still %v after %v (want %v)", name, st, within, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
