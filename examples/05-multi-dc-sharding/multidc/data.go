package multidc

// The data tier of one region: the users sharded by name (shard.Router) over
// SQLite files or PostgreSQL databases, and the asynchronous copy of every
// write to the other region. The online moves are in move.go, the region's
// control API in api.go.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ladder-go/ladder/examples/app"
	"github.com/ladder-go/ladder/shard"
)

// sharded is an app.Store over shard databases: a user and the user's posts
// live on the shard that the current map gives the user's name.
type sharded struct {
	region string
	dir    string // SQLite: the directory of the shard files
	pg     string // PostgreSQL: the server (admin DSN) the shard databases are made on
	dbTag  string // PostgreSQL: the prefix of this run's database names
	// Each table has its router: shard.Migration moves one table and swaps
	// its router at its cutover. Between the two cutovers a moved user's
	// row and posts sit on different shards, which no query joins. With
	// SQLite both swap together.
	users, posts *shard.Router

	mu     sync.RWMutex // guards dbs, stores and hot
	dbs    map[string]*sql.DB
	stores map[string]*app.SQLStore
	hot    *shard.Hot

	moving sync.Mutex
	// fence (SQLite): every write holds it shared; a cutover holds it
	// exclusively.
	fence sync.RWMutex
	// dirty, while a move runs, collects the names written since it began.
	dirtyMu sync.Mutex
	dirty   map[string]bool

	// repl is the asynchronous copy to the other region.
	repl *replicator
}

var _ app.Store = (*sharded)(nil)

func newSharded(c config, n int) (*sharded, error) {
	j, err := shard.NewJump(n)
	if err != nil {
		return nil, err
	}
	m, err := shard.NewMap(1, shardNames(n), j)
	if err != nil {
		return nil, err
	}
	s := &sharded{region: c.region, dir: c.dir, pg: c.pg, dbTag: c.dbTag,
		users: shard.NewRouter(m), posts: shard.NewRouter(m),
		dbs: map[string]*sql.DB{}, stores: map[string]*app.SQLStore{}}
	for _, name := range m.Shards() {
		if err := s.open(name); err != nil {
			s.close()
			return nil, err
		}
	}
	if s.hot, err = shard.NewHot(m.Shards(), shard.HotOptions{}); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func shardNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "s" + strconv.Itoa(i)
	}
	return names
}

func (s *sharded) dialect() app.Dialect {
	if s.pg != "" {
		return app.Postgres
	}
	return app.SQLite
}

// open opens (creating it) the database of shard name: a SQLite file, or a
// PostgreSQL database on the server given.
func (s *sharded) open(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var db *sql.DB
	var err error
	if s.pg == "" {
		db, err = app.OpenSQLite(filepath.Join(s.dir, s.region+"-"+name+".db"))
	} else {
		db, err = createPG(ctx, s.pg, s.dbTag+"_"+s.region+"_"+strings.ReplaceAll(name, "-", "_"))
	}
	if err != nil {
		return err
	}
	st, err := app.NewSQLStore(db, nil, s.dialect())
	if err == nil {
		err = st.Migrate(ctx)
	}
	if err == nil && s.pg != "" {
		// shard.Migration finds a row's copies by its primary key: post IDs
		// must be unique across the shards, so each shard counts in its
		// own range.
		i, _ := strconv.Atoi(strings.TrimLeft(name, "st-"))
		_, err = db.ExecContext(ctx, fmt.Sprintf(`ALTER TABLE app_posts ALTER COLUMN id RESTART WITH %d`, int64(i+1)*1_000_000_000_000))
	}
	if err != nil {
		db.Close()
		return err
	}
	s.mu.Lock()
	s.dbs[name], s.stores[name] = db, st
	s.mu.Unlock()
	return nil
}

func (s *sharded) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, db := range s.dbs {
		db.Close()
	}
	if s.hot != nil {
		s.hot.Close()
	}
}

// route returns the store that owns key under r's current map, and records
// the request for the hot-key detector.
func (s *sharded) route(r *shard.Router, key string) *app.SQLStore {
	h := shard.KeyString(key)
	m := r.Map()
	i := m.Shard(h)
	s.mu.RLock()
	defer s.mu.RUnlock()
	s.hot.Record(i, h)
	return s.stores[m.Shards()[i]]
}

// write runs f on the shard owning key under r's map. With PostgreSQL it
// runs in a transaction tagged with the map (shard.TagTx), retried on the
// next map when a migration's cutover refuses it (shard.IsStaleRoute).
func (s *sharded) write(ctx context.Context, r *shard.Router, key string, f func(*app.SQLStore) error) error {
	s.fence.RLock()
	defer s.fence.RUnlock()
	s.touch(key)
	if s.pg == "" {
		return f(s.route(r, key))
	}
	h := shard.KeyString(key)
	for attempt := 0; ; attempt++ {
		m := r.Map()
		s.mu.RLock()
		s.hot.Record(m.Shard(h), h)
		s.mu.RUnlock()
		tx, err := s.db(m.Name(h)).BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		st, err := app.NewSQLStore(tx, nil, app.Postgres)
		if err == nil {
			err = shard.TagTx(ctx, tx, m)
		}
		if err == nil {
			err = f(st)
		}
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if !shard.IsStaleRoute(err) || attempt == 10 {
			return err
		}
		time.Sleep(time.Millisecond) // the router swaps right after the shards commit
	}
}

func (s *sharded) touch(key string) {
	s.dirtyMu.Lock()
	if s.dirty != nil {
		s.dirty[key] = true
	}
	s.dirtyMu.Unlock()
}

func (s *sharded) CreateUser(ctx context.Context, u app.User, hash string) error {
	if err := s.createUser(ctx, u, hash); err != nil {
		return err
	}
	s.repl.enqueue(write{User: &u, Hash: hash})
	return nil
}

func (s *sharded) createUser(ctx context.Context, u app.User, hash string) error {
	return s.write(ctx, s.users, u.Name, func(st *app.SQLStore) error { return st.CreateUser(ctx, u, hash) })
}

func (s *sharded) CreatePost(ctx context.Context, p app.Post) error {
	if err := s.createPost(ctx, p); err != nil {
		return err
	}
	s.repl.enqueue(write{Post: &p})
	return nil
}

func (s *sharded) createPost(ctx context.Context, p app.Post) error {
	return s.write(ctx, s.posts, p.Author, func(st *app.SQLStore) error { return st.CreatePost(ctx, p) })
}

func (s *sharded) UserByName(ctx context.Context, name string) (app.User, string, error) {
	return s.route(s.users, name).UserByName(ctx, name)
}

func (s *sharded) UserPosts(ctx context.Context, author string, limit int) ([]app.Post, error) {
	return s.route(s.posts, author).UserPosts(ctx, author, limit)
}

// Feed is a cross-shard query: every shard's newest posts, merged.
func (s *sharded) Feed(ctx context.Context, limit int) ([]app.Post, error) {
	m := s.posts.Map()
	names := m.Shards()
	res, err := shard.Scatter(ctx, shard.AllShards(m), func(ctx context.Context, i int) ([]app.Post, error) {
		s.mu.RLock()
		st := s.stores[names[i]]
		s.mu.RUnlock()
		posts, err := st.Feed(ctx, limit)
		// A shard's IDs follow its own inserts (copies from other shards
		// and regions included), not the posts' times: sort for Merge.
		slices.SortStableFunc(posts, newestFirst)
		return posts, err
	}, shard.ScatterOptions{Timeout: time.Second})
	if err != nil {
		return nil, err
	}
	return res.Merge(newestFirst, limit), nil
}

func newestFirst(a, b app.Post) int { return b.Created.Compare(a.Created) }

func (s *sharded) Ping(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, st := range s.stores {
		if err := st.Ping(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ---- the asynchronous copy to the other region ----

// write is one acknowledged write, as shipped to the other region.
type write struct {
	User *app.User `json:"user,omitempty"`
	Hash string    `json:"hash,omitempty"`
	Post *app.Post `json:"post,omitempty"`
}

// replicator ships the writes this region acknowledged to the peer region
// every interval, in order. Until shipped they exist only here: a region that
// dies loses them. It retries a batch the peer did not take.
type replicator struct {
	every  time.Duration
	client *http.Client

	mu    sync.Mutex
	peer  string
	queue []write

	acked, shipped, received atomic.Int64
}

const maxQueue = 1 << 20

func (r *replicator) enqueue(w write) {
	r.acked.Add(1)
	r.mu.Lock()
	if len(r.queue) < maxQueue { // bounded: beyond it, the peer is long gone
		r.queue = append(r.queue, w)
	}
	r.mu.Unlock()
}

func (r *replicator) run(ctx context.Context) {
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.mu.Lock()
		peer, batch := r.peer, r.queue
		if len(batch) > 5000 {
			batch = batch[:5000]
		}
		r.mu.Unlock()
		if peer == "" || len(batch) == 0 {
			continue
		}
		if err := postJSON(ctx, r.client, peer+"/region/apply", batch, nil); err != nil {
			continue // the peer is down or slow: keep the batch, try again
		}
		r.mu.Lock()
		r.queue = r.queue[len(batch):]
		r.mu.Unlock()
		r.shipped.Add(int64(len(batch)))
	}
}

// apply writes a batch shipped by the peer (not copied back). A batch is
// sent again until the peer answers, so a batch applied in part before an
// error comes back: a user already there is skipped (its name is unique),
// and so is a post already there (same author, time and body).
func (s *sharded) apply(ctx context.Context, batch []write) error {
	for _, w := range batch {
		var err error
		switch {
		case w.User != nil:
			err = s.createUser(ctx, *w.User, w.Hash)
			if errors.Is(err, app.ErrTaken) {
				err = nil
			}
		case w.Post != nil:
			p := *w.Post
			var n int
			err = s.db(s.posts.Map().Name(shard.KeyString(p.Author))).QueryRowContext(ctx,
				s.q(`SELECT count(*) FROM app_posts WHERE author = ? AND created_ns = ? AND body = ?`),
				p.Author, p.Created.UnixNano(), p.Body).Scan(&n)
			if err == nil && n == 0 {
				err = s.createPost(ctx, p)
			}
		}
		if err != nil {
			return err
		}
	}
	s.repl.received.Add(int64(len(batch)))
	return nil
}
