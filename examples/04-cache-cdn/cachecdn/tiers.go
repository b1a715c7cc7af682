package cachecdn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/proc"
	"github.com/ladder-go/ladder/lb"
)

// dataTier is the database: SQLite in this process, its read queries given
// a cost, every query counted, served to the web servers over HTTP/JSON.
type dataTier struct {
	count *app.CountingStore
	url   string
	ran   string
	close func()
}

func startData(ctx context.Context, c config) (_ *dataTier, err error) {
	dir, err := os.MkdirTemp("", "ladder-04-*")
	if err != nil {
		return nil, err
	}
	var closers []func()
	done := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	closers = append(closers, func() { os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			done()
		}
	}()
	path := filepath.Join(dir, "app.db")
	db, err := app.OpenSQLite(path)
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { db.Close() })
	store, err := app.NewSQLStore(db, nil, app.SQLite)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		return nil, err
	}
	count := app.Count(&costlyReads{Store: store, work: c.dbWork, slots: make(chan struct{}, c.dbSlots)})
	u, stop, err := proc.ServeLocal(ctx, app.NewStoreHandler(count))
	if err != nil {
		return nil, err
	}
	closers = append(closers, stop)
	return &dataTier{
		count: count, url: u, close: done,
		ran: fmt.Sprintf("SQLite in this process (%s), served over HTTP/JSON at %s; each read query holds one of %d connections for %v", path, u, c.dbSlots, c.dbWork),
	}, nil
}

// costlyReads gives the feed and user-posts queries the cost of a real
// query on a loaded database: each holds one of a few connections for
// work. A stampede then queues, as it does on a real server.
type costlyReads struct {
	app.Store
	work  time.Duration
	slots chan struct{}
}

func (s *costlyReads) hold(ctx context.Context) (func(), error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if s.work > 0 {
		t := time.NewTimer(s.work)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			<-s.slots
			return nil, ctx.Err()
		}
	}
	return func() { <-s.slots }, nil
}

func (s *costlyReads) Feed(ctx context.Context, limit int) ([]app.Post, error) {
	release, err := s.hold(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.Store.Feed(ctx, limit)
}

func (s *costlyReads) UserPosts(ctx context.Context, author string, limit int) ([]app.Post, error) {
	release, err := s.hold(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.Store.UserPosts(ctx, author, limit)
}

// webTier is a set of web server processes behind an lb.Proxy.
type webTier struct {
	c      config
	mode   string
	data   string
	group  *proc.Group
	pool   *lb.Pool[*url.URL]
	url    string // the balancer
	proxy  *lb.Proxy
	stop   func()
	logger *slog.Logger

	mu   sync.Mutex
	web  []*proc.Child
	next int
	name string
}

func startWeb(ctx context.Context, tierName, mode string, c config, dataURL string, group *proc.Group, logger *slog.Logger) (_ *webTier, err error) {
	t := &webTier{c: c, mode: mode, data: dataURL, group: group, logger: logger, name: tierName}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	t.pool, err = lb.NewPool[*url.URL](nil, lb.PoolOptions{Policy: lb.RoundRobin(), Logger: logger})
	if err != nil {
		return nil, err
	}
	errs := make([]error, c.web)
	var wg sync.WaitGroup
	for i := range c.web { // at once: a start is mostly waiting for the child
		wg.Go(func() { _, errs[i] = t.start(ctx, 1, true) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := t.update(); err != nil {
		return nil, err
	}
	proxy := &lb.Proxy{Pool: t.pool, Logger: logger}
	if err := proxy.Validate(); err != nil {
		return nil, err
	}
	u, stop, err := proc.ServeLocal(ctx, proxy)
	if err != nil {
		return nil, err
	}
	t.url, t.stop, t.proxy = u, stop, proxy
	return t, nil
}

// start starts one web server serving assets build n and adds it to the
// tier (not yet to the pool: update does).
func (t *webTier) start(ctx context.Context, build int, previous bool) (*proc.Child, error) {
	t.mu.Lock()
	t.next++
	n := t.next
	t.mu.Unlock()
	ch, err := t.group.Start(ctx, proc.Spec{Name: fmt.Sprintf("%s-%d", t.name, n), Role: "web", Args: []string{
		"-store", t.data, "-sessions", t.c.sessions, "-redis", t.c.redis, "-prefix", t.c.prefix, "-cache", t.mode, "-ttl", t.c.ttl.String(),
		"-kdf-iter", strconv.Itoa(t.c.kdfIter), "-build", strconv.Itoa(build), "-previous=" + strconv.FormatBool(previous),
	}})
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.web = append(t.web, ch)
	t.mu.Unlock()
	return ch, nil
}

// update puts the tier's servers in the pool.
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

// retire takes w out of the pool, then stops it (SIGTERM: it finishes the
// requests it has and exits).
func (t *webTier) retire(w *proc.Child) error {
	t.mu.Lock()
	for i, x := range t.web {
		if x == w {
			t.web = append(t.web[:i], t.web[i+1:]...)
			break
		}
	}
	t.mu.Unlock()
	if err := t.update(); err != nil {
		return err
	}
	return w.Stop()
}

func (t *webTier) servers() []*proc.Child {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]*proc.Child(nil), t.web...)
}

func (t *webTier) close() {
	if t.stop != nil {
		t.stop()
	}
	for _, w := range t.servers() {
		w.Kill()
	}
	if t.pool != nil {
		t.pool.Close()
	}
}

// feedStats sums the web servers' feed counters.
func (t *webTier) feedStats(ctx context.Context) (feedStats, error) {
	var sum feedStats
	for _, w := range t.servers() {
		var s feedStats
		if err := getJSON(ctx, w.URL()+feedStatsPath, &s); err != nil {
			return sum, err
		}
		sum.Reads += s.Reads
		sum.Loads += s.Loads
	}
	return sum, nil
}

func getJSON(ctx context.Context, u string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// farOrigin is the origin as the users see it: far away. Every request
// waits rtt before it reaches the balancer, and is counted.
type farOrigin struct {
	next     http.Handler
	rtt      time.Duration
	requests atomic.Int64
	assets   atomic.Int64
}

func (o *farOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.requests.Add(1)
	if len(r.URL.Path) >= 8 && r.URL.Path[:8] == "/assets/" {
		o.assets.Add(1)
	}
	if o.rtt > 0 {
		t := time.NewTimer(o.rtt)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	o.next.ServeHTTP(w, r)
}
