package multidc

// Moving keys between shards online: resharding and tenant isolation.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"maps"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/ladder-go/ladder/shard"
)

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
