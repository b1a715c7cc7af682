package main

// The data tier of one region: the users sharded by name over SQLite files
// (shard.Router), an asynchronous copy of every write to the other region,
// and the online moves of keys between shards (reshard, tenant isolation).

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
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

// apply writes a batch shipped by the peer (not copied back).
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
			err = s.createPost(ctx, *w.Post)
		}
		if err != nil {
			return err
		}
	}
	s.repl.received.Add(int64(len(batch)))
	return nil
}

// ---- moving keys between shards online (reshard, isolation) ----

// moveReport is what one move measured.
type moveReport struct {
	From, To        uint64
	Keys, MovedKeys int     // users, and those that changed shard
	Moved           float64 // share of keys moved (shard.Plan, exact over the users)
	Flows           []shard.Flow
	MovedPosts      int
	Resynced        int // keys written during the copy, copied again
	UsersBefore     int // counted under the fence with the old map …
	UsersAfter      int // … and with the new one, before cleanup
	PostsBefore     int
	PostsAfter      int
	SumBefore       string // order-independent checksum of every row
	SumAfter        string
	Census          string  // which rows were counted, and when
	Pause           float64 // seconds writes were fenced at cutover
	Copy            float64 // seconds of the online copy
	Err             string  `json:",omitempty"`
}

// move takes every key whose shard differs between the current map and next
// to its new shard while writes go on, in the steps of shard.Migration
// (which does this for PostgreSQL with triggers): record the keys written
// from now on; copy the moving keys' rows; copy again, per key, what was
// written meanwhile until little is left; fence writes, copy the rest,
// count and checksum every row under both maps, swap the router; lift the
// fence; delete the copies the old shards no longer own.
func (s *sharded) move(ctx context.Context, next *shard.Map) (moveReport, error) {
	s.moving.Lock() // one move at a time
	defer s.moving.Unlock()
	old := s.users.Map()
	rep := moveReport{From: old.Version(), To: next.Version()}
	if s.posts.Map() != old {
		return rep, errors.New("the tables' maps differ: a move was left half done")
	}
	for _, name := range next.Shards() {
		s.mu.RLock()
		_, ok := s.dbs[name]
		s.mu.RUnlock()
		if !ok {
			if err := s.open(name); err != nil {
				return rep, err
			}
		}
	}
	names, err := s.userNames(ctx, old)
	if err != nil {
		return rep, err
	}
	plan, err := shard.Plan(old, next, shard.PlanOptions{Keys: func(yield func(uint64) bool) {
		for _, n := range names {
			if !yield(shard.KeyString(n)) {
				return
			}
		}
	}})
	if err != nil {
		return rep, err
	}
	rep.Keys, rep.MovedKeys, rep.Moved, rep.Flows = plan.Keys, plan.MovedKeys, plan.Moved, plan.Flows
	if s.pg != "" {
		err = s.movePG(ctx, old, next, &rep)
	} else {
		err = s.moveSQLite(ctx, old, next, names, &rep)
	}
	if err != nil {
		return rep, err
	}
	hot, err := shard.NewHot(next.Shards(), shard.HotOptions{})
	if err != nil {
		return rep, err
	}
	s.mu.Lock()
	s.hot.Close()
	s.hot = hot
	s.mu.Unlock()
	return rep, nil
}

// moveSQLite is this example's own online move for SQLite files.
func (s *sharded) moveSQLite(ctx context.Context, old, next *shard.Map, names []string, rep *moveReport) error {
	rep.Census = "every row, under the fence, by the old map and by the new one (the pause includes it)"
	// Capture from here: a key written after its copy is copied again.
	s.dirtyMu.Lock()
	s.dirty = map[string]bool{}
	s.dirtyMu.Unlock()
	defer func() { s.dirtyMu.Lock(); s.dirty = nil; s.dirtyMu.Unlock() }()

	start := time.Now()
	for _, n := range names {
		if h := shard.KeyString(n); old.Name(h) != next.Name(h) {
			c, err := s.resync(ctx, old, next, n)
			if err != nil {
				return err
			}
			rep.MovedPosts += c
		}
	}
	for range 5 { // catch up while writes go on
		d := s.takeDirty()
		if len(d) < 10 {
			s.putDirty(d)
			break
		}
		for _, n := range d {
			if h := shard.KeyString(n); old.Name(h) != next.Name(h) {
				if _, err := s.resync(ctx, old, next, n); err != nil {
					return err
				}
				rep.Resynced++
			}
		}
	}
	rep.Copy = time.Since(start).Seconds()

	// Cutover under the fence.
	s.fence.Lock()
	fenced := time.Now()
	var fencedFor time.Duration
	err := func() error {
		defer func() { fencedFor = time.Since(fenced) }()
		for _, n := range s.takeDirty() {
			if h := shard.KeyString(n); old.Name(h) != next.Name(h) {
				if _, err := s.resync(ctx, old, next, n); err != nil {
					return err
				}
				rep.Resynced++
			}
		}
		var sb, sa uint64
		var err error
		if rep.UsersBefore, rep.PostsBefore, sb, err = s.census(ctx, old, math.MaxInt64); err != nil {
			return err
		}
		if rep.UsersAfter, rep.PostsAfter, sa, err = s.census(ctx, next, math.MaxInt64); err != nil {
			return err
		}
		rep.SumBefore, rep.SumAfter = fmt.Sprintf("%016x", sb), fmt.Sprintf("%016x", sa)
		if sb != sa || rep.UsersBefore != rep.UsersAfter || rep.PostsBefore != rep.PostsAfter {
			return fmt.Errorf("verify: %d users/%d posts/%s before, %d/%d/%s after: not swapped",
				rep.UsersBefore, rep.PostsBefore, rep.SumBefore, rep.UsersAfter, rep.PostsAfter, rep.SumAfter)
		}
		if err := s.users.Swap(old, next); err != nil {
			return err
		}
		return s.posts.Swap(old, next)
	}()
	s.fence.Unlock()
	if err != nil {
		return err
	}
	rep.Pause = fencedFor.Seconds()
	// Cleanup: the old shards' copies of moved keys.
	for _, n := range names {
		if h := shard.KeyString(n); old.Name(h) != next.Name(h) {
			src := s.db(old.Name(h))
			if _, err := src.ExecContext(ctx, `DELETE FROM app_posts WHERE author = ?`, n); err != nil {
				return err
			}
			if _, err := src.ExecContext(ctx, `DELETE FROM app_users WHERE name = ?`, n); err != nil {
				return err
			}
		}
	}
	return nil
}

// movePG moves the rows with shard.Migration, one per table (each swaps
// its table's router at its cutover): change capture by triggers, batched
// copy, catch-up, verify and a fenced cutover, then Cleanup. The rows
// created well before the move began are counted and checksummed under
// both maps; those written around and during it are the ledger's to check.
// "Well before": a post carries the time the web server took it, and a
// store call is bounded to a second (app.Config.StoreTimeout), so a row
// created 3 s before the move is written by the time it starts (copies
// from the other region, which carry older times, stop in drill 1).
func (s *sharded) movePG(ctx context.Context, old, next *shard.Map, rep *moveReport) error {
	t0 := time.Now().Add(-3 * time.Second).UnixNano()
	rep.Census = "the rows created 3 s before the move, before it and after it (shard.Migration's fence is its own)"
	var err error
	var sb, sa uint64
	if rep.UsersBefore, rep.PostsBefore, sb, err = s.census(ctx, old, t0); err != nil {
		return err
	}
	s.mu.RLock()
	dbs := maps.Clone(s.dbs)
	s.mu.RUnlock()
	var mu sync.Mutex
	opts := shard.MigrateOptions{
		FenceTimeout: 5 * time.Second, FenceHold: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnProgress: func(p shard.Progress) {
			mu.Lock()
			defer mu.Unlock()
			switch p.Phase {
			case "replay":
				rep.Resynced += p.Rows
			case "cutover":
				rep.Pause = max(rep.Pause, p.Fence.Seconds())
			}
		},
	}
	control := dbs[old.Shards()[0]]
	start := time.Now()
	var migs []*shard.Migration
	for _, t := range []struct {
		table shard.Table
		r     *shard.Router
	}{
		{shard.Table{Name: "app_users", KeyColumn: "name", PKColumn: "name"}, s.users},
		{shard.Table{Name: "app_posts", KeyColumn: "author", PKColumn: "id"}, s.posts},
	} {
		m, err := shard.NewMigration(control, dbs, t.table, t.r, old, next, opts)
		if err != nil {
			return err
		}
		migs = append(migs, m)
	}
	for i, m := range migs { // one table after the other
		if err := m.Run(ctx); err != nil {
			for _, m := range migs[:i+1] {
				if _, rerr := m.Rollback(ctx); rerr != nil {
					err = errors.Join(err, rerr)
				}
			}
			return err
		}
	}
	rep.Copy = time.Since(start).Seconds()
	for _, m := range migs {
		if err := m.Cleanup(ctx); err != nil {
			return err
		}
	}
	if rep.UsersAfter, rep.PostsAfter, sa, err = s.census(ctx, next, t0); err != nil {
		return err
	}
	rep.SumBefore, rep.SumAfter = fmt.Sprintf("%016x", sb), fmt.Sprintf("%016x", sa)
	// Posts moved: those the plan's keys carried (counted after the move).
	rep.MovedPosts = 0
	for i, sh := range next.Shards() {
		if old.Index(sh) >= 0 {
			continue
		}
		_ = i
		var n int
		if err := s.db(sh).QueryRowContext(ctx, `SELECT count(*) FROM app_posts`).Scan(&n); err != nil {
			return err
		}
		rep.MovedPosts += n
	}
	return nil
}

func (s *sharded) takeDirty() []string {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	out := make([]string, 0, len(s.dirty))
	for n := range s.dirty {
		out = append(out, n)
	}
	s.dirty = map[string]bool{}
	return out
}

func (s *sharded) putDirty(names []string) {
	s.dirtyMu.Lock()
	for _, n := range names {
		s.dirty[n] = true
	}
	s.dirtyMu.Unlock()
}

func (s *sharded) db(name string) *sql.DB {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.dbs[name]
}

// userNames lists every user name on the shards of m.
func (s *sharded) userNames(ctx context.Context, m *shard.Map) ([]string, error) {
	var names []string
	for _, sh := range m.Shards() {
		rows, err := s.db(sh).QueryContext(ctx, `SELECT name FROM app_users`)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, err
			}
			names = append(names, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// resync makes the rows of user name on its shard under next equal to those
// on its shard under old (idempotent: delete, then copy), in one transaction
// on the destination. It returns the number of posts copied.
func (s *sharded) resync(ctx context.Context, old, next *shard.Map, name string) (int, error) {
	h := shard.KeyString(name)
	src, dst := s.db(old.Name(h)), s.db(next.Name(h))
	var u struct {
		pass    string
		created int64
	}
	hasUser := true
	err := src.QueryRowContext(ctx, `SELECT pass, created_ns FROM app_users WHERE name = ?`, name).Scan(&u.pass, &u.created)
	if errors.Is(err, sql.ErrNoRows) {
		hasUser = false
	} else if err != nil {
		return 0, err
	}
	type post struct {
		body    string
		created int64
	}
	var posts []post
	rows, err := src.QueryContext(ctx, `SELECT body, created_ns FROM app_posts WHERE author = ? ORDER BY id`, name)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var p post
		if err := rows.Scan(&p.body, &p.created); err != nil {
			rows.Close()
			return 0, err
		}
		posts = append(posts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	tx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_posts WHERE author = ?`, name); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM app_users WHERE name = ?`, name); err != nil {
		return 0, err
	}
	if hasUser {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_users (name, pass, created_ns) VALUES (?, ?, ?)`, name, u.pass, u.created); err != nil {
			return 0, err
		}
	}
	for _, p := range posts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_posts (author, body, created_ns) VALUES (?, ?, ?)`, name, p.body, p.created); err != nil {
			return 0, err
		}
	}
	return len(posts), tx.Commit()
}

// census counts the users and posts created before before (Unix ns) that m
// places on the shard holding them (a copy on a shard m does not name is not
// counted) and sums a hash of each row: the same rows give the same numbers
// whatever shard holds them.
func (s *sharded) census(ctx context.Context, m *shard.Map, before int64) (users, posts int, sum uint64, err error) {
	row := func(parts ...any) uint64 {
		f := fnv.New64a()
		fmt.Fprintln(f, parts...)
		return f.Sum64()
	}
	for i, sh := range m.Shards() {
		owned := func(name string) bool { return m.Shard(shard.KeyString(name)) == i }
		rows, err := s.db(sh).QueryContext(ctx, s.q(`SELECT name, pass, created_ns FROM app_users WHERE created_ns < ?`), before)
		if err != nil {
			return 0, 0, 0, err
		}
		for rows.Next() {
			var n, p string
			var c int64
			if err := rows.Scan(&n, &p, &c); err != nil {
				rows.Close()
				return 0, 0, 0, err
			}
			if owned(n) {
				users++
				sum += row("user", n, p, c)
			}
		}
		rows.Close()
		rows, err = s.db(sh).QueryContext(ctx, s.q(`SELECT author, body, created_ns FROM app_posts WHERE created_ns < ?`), before)
		if err != nil {
			return 0, 0, 0, err
		}
		for rows.Next() {
			var a, b string
			var c int64
			if err := rows.Scan(&a, &b, &c); err != nil {
				rows.Close()
				return 0, 0, 0, err
			}
			if owned(a) {
				posts++
				sum += row("post", a, b, c)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, 0, 0, err
		}
	}
	return users, posts, sum, nil
}

// dedicated is a strategy with one shard more than its fallback, on which no
// key hash lands: the shard a Directory override (Map.WithOverride) gives to
// one tenant alone.
type dedicated struct{ shard.Strategy }

func (d dedicated) Len() int { return d.Strategy.Len() + 1 }

// isolateMap returns the map that puts tenant alone on a new shard.
func isolateMap(cur *shard.Map, tenant string) (*shard.Map, error) {
	names := append(cur.Shards(), "t-"+strconv.Itoa(cur.Len()))
	m, err := shard.NewMap(cur.Version()+1, names, dedicated{cur.Strategy()})
	if err != nil {
		return nil, err
	}
	return m.WithOverride(cur.Version()+2, shard.KeyString(tenant), names[len(names)-1])
}

// ---- the region's control API (loopback only, for the parent) ----

func (s *sharded) handler(storeHandler http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/store/", storeHandler)
	mux.HandleFunc("POST /region/peer", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1024))
		s.repl.mu.Lock()
		s.repl.peer = string(b)
		s.repl.mu.Unlock()
	})
	mux.HandleFunc("POST /region/apply", func(w http.ResponseWriter, r *http.Request) {
		var batch []write
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.apply(r.Context(), batch); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("POST /region/seed", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("users"))
		per, _ := strconv.Atoi(r.URL.Query().Get("posts"))
		reply(w, nil, s.seed(r.Context(), n, per))
	})
	mux.HandleFunc("GET /region/stats", func(w http.ResponseWriter, r *http.Request) {
		s.repl.mu.Lock()
		queued := len(s.repl.queue)
		s.repl.mu.Unlock()
		m := s.users.Map()
		reply(w, regionStats{Region: s.region, Acked: s.repl.acked.Load(), Shipped: s.repl.shipped.Load(),
			Received: s.repl.received.Load(), Queued: queued, Map: m.String(), Shards: m.Shards()}, nil)
	})
	mux.HandleFunc("GET /region/bodies", func(w http.ResponseWriter, r *http.Request) {
		bodies, err := s.bodies(r.Context(), r.URL.Query().Get("prefix"))
		reply(w, bodies, err)
	})
	mux.HandleFunc("GET /region/where", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		m := s.posts.Map()
		sh := m.Name(shard.KeyString(name))
		var users, posts int
		db := s.db(sh)
		err := db.QueryRowContext(r.Context(), `SELECT count(*) FROM app_users`).Scan(&users)
		if err == nil {
			err = db.QueryRowContext(r.Context(), s.q(`SELECT count(*) FROM app_posts WHERE author <> ?`), name).Scan(&posts)
		}
		reply(w, map[string]any{"shard": sh, "users_on_shard": users, "others_posts_on_shard": posts}, err)
	})
	mux.HandleFunc("POST /region/reshard", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("shards"))
		cur := s.users.Map()
		j, err := shard.NewJump(n)
		if err != nil {
			reply(w, nil, err)
			return
		}
		next, err := shard.NewMap(cur.Version()+1, shardNames(n), j)
		if err != nil {
			reply(w, nil, err)
			return
		}
		rep, err := s.move(r.Context(), next)
		reply(w, rep, err)
	})
	mux.HandleFunc("POST /region/isolate", func(w http.ResponseWriter, r *http.Request) {
		next, err := isolateMap(s.users.Map(), r.URL.Query().Get("tenant"))
		if err != nil {
			reply(w, nil, err)
			return
		}
		rep, err := s.move(r.Context(), next)
		reply(w, rep, err)
	})
	mux.HandleFunc("POST /region/hot/reset", func(w http.ResponseWriter, r *http.Request) {
		hot, err := shard.NewHot(s.users.Map().Shards(), shard.HotOptions{})
		if err == nil {
			s.mu.Lock()
			s.hot.Close()
			s.hot = hot
			s.mu.Unlock()
		}
		reply(w, nil, err)
	})
	mux.HandleFunc("GET /region/hot", func(w http.ResponseWriter, r *http.Request) {
		s.mu.RLock()
		st, sug := s.hot.Stats(), s.hot.Suggest()
		s.mu.RUnlock()
		reply(w, hotReport{Shards: st.Shards, Counts: st.Counts, Skew: st.Skew, Max: st.Max, Suggest: sug}, nil)
	})
	return mux
}

type regionStats struct {
	Region                   string
	Acked, Shipped, Received int64
	Queued                   int
	Map                      string
	Shards                   []string
}

type hotReport struct {
	Shards  []string
	Counts  []int64
	Skew    float64
	Max     int
	Suggest []shard.HotKey
}

// seed inserts n users with per posts each, the same in every region (the
// data a region starts with), straight into the shards.
func (s *sharded) seed(ctx context.Context, n, per int) error {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		name := fmt.Sprintf("seed-%05d", i)
		// Untagged, not copied to the other region (seeded alike): no move
		// runs yet.
		if err := s.route(s.users, name).CreateUser(ctx, app.User{Name: name, Created: base}, "seeded"); err != nil && !errors.Is(err, app.ErrTaken) {
			return err
		}
		for k := range per {
			p := app.Post{Author: name, Body: fmt.Sprintf("seed post %d of %s", k, name), Created: base.Add(time.Duration(i*per+k) * time.Second)}
			if err := s.route(s.posts, name).CreatePost(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// bodies returns every post body starting with prefix, on every shard the
// current map names.
func (s *sharded) bodies(ctx context.Context, prefix string) ([]string, error) {
	var out []string
	for _, sh := range s.posts.Map().Shards() {
		rows, err := s.db(sh).QueryContext(ctx, s.q(`SELECT body FROM app_posts WHERE substr(body, 1, ?) = ?`), len(prefix), prefix)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// q rebinds ? placeholders for PostgreSQL.
func (s *sharded) q(query string) string {
	if s.pg == "" {
		return query
	}
	var b strings.Builder
	n := 0
	for _, c := range query {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// createPG creates database name on the server of admin (dropping a
// leftover of that name first) and opens it.
func createPG(ctx context.Context, admin, name string) (*sql.DB, error) {
	a, err := app.OpenPostgres(ctx, admin, app.PostgresOptions{ApplicationName: "ladder-ex05"})
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if _, err := a.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
		return nil, fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := a.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	dsn, err := withDatabase(admin, name)
	if err != nil {
		return nil, err
	}
	db, err := app.OpenPostgres(ctx, dsn, app.PostgresOptions{ApplicationName: "ladder-ex05"})
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	return db, nil
}

// withDatabase returns the URL DSN dsn naming database name instead.
func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("postgres DSN %q: want a URL postgres://user@host:port/db?…", redactDSN(dsn))
	}
	u.Path = "/" + name
	return u.String(), nil
}

func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	return dsn
}

// dropPG drops every database of this run (named tag_…) on the server.
func dropPG(ctx context.Context, admin, tag string) error {
	a, err := app.OpenPostgres(ctx, admin, app.PostgresOptions{ApplicationName: "ladder-ex05"})
	if err != nil {
		return err
	}
	defer a.Close()
	rows, err := a.QueryContext(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, tag+"_")
	if err != nil {
		return err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	var errs []error
	for _, n := range names {
		if _, err := a.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+n+`" WITH (FORCE)`); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// postJSON posts in as JSON and decodes the answer into out (if not nil).
func postJSON(ctx context.Context, c *http.Client, url string, in, out any) error {
	return callJSON(ctx, c, http.MethodPost, url, in, out)
}

func callJSON(ctx context.Context, c *http.Client, method, url string, in, out any) error {
	var body io.Reader
	if in != nil {
		switch v := in.(type) {
		case string:
			body = bytes.NewBufferString(v)
		default:
			b, err := json.Marshal(in)
			if err != nil {
				return err
			}
			body = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, url, e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, url, resp.StatusCode)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
