package cachecdn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	"github.com/ladder-go/ladder/cache"
	"github.com/ladder-go/ladder/cache/assets"
	"github.com/ladder-go/ladder/cache/rediscache"
	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/examples/app/stage"
	"github.com/ladder-go/ladder/session"
	"github.com/ladder-go/ladder/session/redisstore"
)

// feedStatsPath is where a web server says how many feed reads it served
// and how many of them loaded from the database (an internal endpoint: in
// production, serve it on an internal listener, not the public one).
const feedStatsPath = "/debug/feedcache"

// feedStats are a web server's feed reads and the loads they caused.
type feedStats struct {
	Reads int64 `json:"reads"`
	Loads int64 `json:"loads"`
}

// serveWeb is one web server: the application over the data tier, its feed
// reads through the cache -cache names, its assets from build -build.
func serveWeb(ctx context.Context, c config, stderr io.Writer) error {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	tel, err := stage.NewTelemetry(ctx, name, 0, stderr, slog.LevelError)
	if err != nil {
		return err
	}
	defer tel.Shutdown(context.Background())
	store, err := app.NewRemoteStore(c.store, nil)
	if err != nil {
		return err
	}
	var sessions session.Store // nil: in this process (a lone server of drill 2)
	if c.sessions != "" {
		rdb, err := app.OpenRedis(ctx, c.sessions)
		if err != nil {
			return err
		}
		defer rdb.Close()
		if sessions, err = redisstore.New(rdb, redisstore.Options{Prefix: c.prefix}); err != nil {
			return err
		}
	}
	feed, closeFeed, err := newFeedCache(ctx, c, logger)
	if err != nil {
		return err
	}
	defer closeFeed()
	counted := &countingFeed{c: feed}
	as, err := newAssets(c.build, c.previous, logger)
	if err != nil {
		return err
	}
	defer as.Close()
	web, err := app.New(app.Config{
		Store:          store,
		Sessions:       sessions,
		SessionOptions: app.LoopbackSessionOptions(),
		Assets:         as,
		FeedCache:      counted,
		Observe:        tel.Middleware,
		KDFIterations:  c.kdfIter,
		StoreTimeout:   3 * time.Second,
		Logger:         logger,
	})
	if err != nil {
		return err
	}
	defer web.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+feedStatsPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(feedStats{Reads: counted.reads.Load(), Loads: counted.loads.Load()})
	})
	mux.Handle("/", web)
	return stage.ServeChild(ctx, mux, tel)
}

// newFeedCache builds the feed cache a web server's -cache asks for.
//
//   - naive: cache-aside as it is often written by hand (look up; on a miss,
//     load and store): every reader that misses queries the database, so a
//     hot key's expiry sends them all at once (a stampede);
//   - aside: cache.Aside, one load per key however many readers miss
//     together; the readers wait for it;
//   - swr: cache.Aside with stale-while-revalidate: the expired value is
//     served while one reload runs, so nobody waits.
//
// With -redis, aside and swr are an L1 over a shared Redis tier
// (rediscache), whose entries every web server reads.
func newFeedCache(ctx context.Context, c config, logger *slog.Logger) (app.FeedCache, func(), error) {
	if c.mode == "naive" {
		return &naiveCache{ttl: c.ttl, m: map[string]naiveEntry{}}, func() {}, nil
	}
	opts := cache.Options{TTL: c.ttl, Name: "feed", Logger: logger, LoadTimeout: 5 * time.Second}
	if c.mode == "swr" {
		opts.StaleWhileRevalidate = 10 * c.ttl
	}
	lru, err := cache.NewLRU[string, []app.Post](1024, cache.StoreOptions{})
	if err != nil {
		return nil, nil, err
	}
	if c.redis == "" {
		a, err := cache.New[string, []app.Post](lru, opts)
		if err != nil {
			return nil, nil, err
		}
		return a, func() { a.Close() }, nil
	}
	rdb, err := app.OpenRedis(ctx, c.redis)
	if err != nil {
		return nil, nil, err
	}
	rc, err := rediscache.New[[]app.Post](rdb, lru, rediscache.Options{L1: opts, Prefix: c.prefix})
	if err != nil {
		rdb.Close()
		return nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rc.Ready(rctx); err != nil {
		rc.Close()
		rdb.Close()
		return nil, nil, fmt.Errorf("redis cache not ready: %w", err)
	}
	return rc, func() { rc.Close(); rdb.Close() }, nil
}

// naiveCache is cache-aside without stampede protection: the "before" of
// drill 1. Not for use.
type naiveCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]naiveEntry
}

type naiveEntry struct {
	posts   []app.Post
	expires time.Time
}

func (n *naiveCache) Get(ctx context.Context, key string, load cache.Loader[string, []app.Post]) ([]app.Post, error) {
	n.mu.Lock()
	e, ok := n.m[key]
	n.mu.Unlock()
	if ok && time.Now().Before(e.expires) {
		return e.posts, nil
	}
	posts, err := load(ctx, key)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.m[key] = naiveEntry{posts: posts, expires: time.Now().Add(n.ttl)}
	n.mu.Unlock()
	return posts, nil
}

// countingFeed counts a web server's feed reads and the loads they ran.
type countingFeed struct {
	c            app.FeedCache
	reads, loads atomic.Int64
}

func (f *countingFeed) Get(ctx context.Context, key string, load cache.Loader[string, []app.Post]) ([]app.Post, error) {
	f.reads.Add(1)
	return f.c.Get(ctx, key, func(ctx context.Context, k string) ([]app.Post, error) {
		f.loads.Add(1)
		return load(ctx, k)
	})
}

// buildFS returns the static files of build n: build 1 is the
// application's, build 2 changes style.css and app.js (a deploy), so their
// hashed names change; logo.svg is the same in both.
func buildFS(n int) (fs.FS, error) {
	if n == 1 {
		return app.Static(), nil
	}
	m := fstest.MapFS{}
	err := fs.WalkDir(app.Static(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(app.Static(), p)
		if err != nil {
			return err
		}
		switch p {
		case "style.css":
			b = append(b, "\n/* build 2 */\n"...)
		case "app.js":
			b = append(b, "\n// build 2\n"...)
		}
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return nil
	})
	return m, err
}

// newAssets serves build n; build 2 keeps build 1's hashed names when
// previous is set (assets.Options.Previous).
func newAssets(n int, previous bool, logger *slog.Logger) (*assets.Assets, error) {
	fsys, err := buildFS(n)
	if err != nil {
		return nil, err
	}
	opts := assets.Options{Logger: logger}
	if n == 2 && previous {
		opts.Previous = []assets.Build{{FS: app.Static()}}
	}
	return assets.New(fsys, opts)
}
