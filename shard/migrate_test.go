package shard_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/shard"
)

// migEnv is five PostgreSQL databases, shards a…e, with the items table,
// and rows placed by the 4-shard map.
type migEnv struct {
	dbs      map[string]*sql.DB
	dsns     map[string]string // shard name (and "ctl") → DSN
	ctl      *sql.DB
	from, to *shard.Map
	r        *shard.Router
	model    map[int64]item // what the rows must be
	nextID   int64
	ops      atomic.Int64 // operations done by the writer
}

// waitOps waits until the writer has done n more operations.
func (e *migEnv) waitOps(t *testing.T, n int64) {
	t.Helper()
	want := e.ops.Load() + n
	for deadline := time.Now().Add(time.Minute); e.ops.Load() < want; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the writer did %d operations in a minute, want %d", e.ops.Load(), want)
		}
	}
}

type item struct {
	tenant string
	val    int64
}

var migTable = shard.Table{Name: "items", KeyColumn: "tenant", PKColumn: "id"}

func migRows() int {
	if os.Getenv("LADDER_DRILL") == "full" {
		return 50_000
	}
	return 2_000
}

// newMigEnv is the 4 → 5 jump reshard over shards a…e.
func newMigEnv(t *testing.T, rows int) *migEnv {
	t.Helper()
	j4, _ := shard.NewJump(4)
	j5, _ := shard.NewJump(5)
	from, err := shard.NewMap(1, []string{"a", "b", "c", "d"}, j4)
	if err != nil {
		t.Fatal(err)
	}
	to, err := shard.NewMap(2, []string{"a", "b", "c", "d", "e"}, j5)
	if err != nil {
		t.Fatal(err)
	}
	return newMigEnvMaps(t, rows, from, to)
}

func newMigEnvMaps(t *testing.T, rows int, from, to *shard.Map) *migEnv {
	t.Helper()
	return newMigEnvOn(t, rows, from, to, nil)
}

// newMigEnvOn is newMigEnvMaps with the database of some shards chosen by
// on (a private server a test may freeze); nil, or a zero PG from it, is a
// fresh database on the shared primary.
func newMigEnvOn(t *testing.T, rows int, from, to *shard.Map, on func(name string) testenv.PG) *migEnv {
	t.Helper()
	ctx := context.Background()
	e := &migEnv{dbs: map[string]*sql.DB{}, dsns: map[string]string{}, model: map[int64]item{}, from: from, to: to}
	for _, n := range e.names() {
		var pg testenv.PG
		if on != nil {
			pg = on(n)
		}
		if pg.DSN == "" {
			pg = testenv.Postgres(t)
		}
		e.dsns[n] = pg.DSN
		db := pg.DB(t)
		db.SetMaxOpenConns(8)
		if _, err := db.ExecContext(ctx, `CREATE TABLE items (id bigint PRIMARY KEY, tenant text NOT NULL,
			val bigint NOT NULL, note text, data bytea)`); err != nil {
			t.Fatal(err)
		}
		e.dbs[n] = db
	}
	ctl := testenv.Postgres(t)
	e.dsns["ctl"] = ctl.DSN
	e.ctl = ctl.DB(t)
	e.r = shard.NewRouter(e.from)
	byShard := map[string][]string{}
	for range rows {
		e.nextID++
		it := item{tenant: fmt.Sprintf("tenant-%d", e.nextID%300), val: e.nextID}
		e.model[e.nextID] = it
		home := e.from.Name(shard.KeyString(it.tenant))
		byShard[home] = append(byShard[home], fmt.Sprintf("(%d, '%s', %d, 'n%d', '\\x%02x')", e.nextID, it.tenant, it.val, e.nextID, e.nextID%256))
	}
	for home, vals := range byShard {
		for c := range slices.Chunk(vals, 1000) {
			if _, err := e.dbs[home].ExecContext(ctx, "INSERT INTO items VALUES "+strings.Join(c, ",")); err != nil {
				t.Fatal(err)
			}
		}
	}
	return e
}

// names lists the shards of both maps.
func (e *migEnv) names() []string {
	n := append(e.from.Shards(), e.to.Shards()...)
	slices.Sort(n)
	return slices.Compact(n)
}

func (e *migEnv) migration(t *testing.T, o shard.MigrateOptions) *shard.Migration {
	t.Helper()
	if o.Batch == 0 {
		o.Batch = 100
	}
	o.Logger = slog.New(slog.DiscardHandler)
	m, err := shard.NewMigration(e.ctl, e.dbs, migTable, e.r, e.from, e.to, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// writer inserts, updates, deletes and reads rows through the router,
// tagging its transactions and retrying a write refused as stale. It keeps
// the model; every read must see the model's value and every update or
// delete must find its row on the shard the current map names.
type writer struct {
	e    *migEnv
	rnd  *rand.Rand
	ops  int
	errs []string
}

func (w *writer) fail(f string, a ...any) { w.errs = append(w.errs, fmt.Sprintf(f, a...)) }

func (w *writer) anyID() int64 {
	for range 20 {
		id := w.rnd.Int64N(w.e.nextID) + 1
		if _, ok := w.e.model[id]; ok {
			return id
		}
	}
	return 0
}

// exec runs one statement on the row's current shard; it retries when the
// shard refuses the route as stale, and returns the rows affected.
func (w *writer) exec(ctx context.Context, tenant, q string, args ...any) (int64, error) {
	for {
		m := w.e.r.Map()
		db := w.e.dbs[m.Name(shard.KeyString(tenant))]
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return 0, err
		}
		if err := shard.TagTx(ctx, tx, m); err != nil {
			_ = tx.Rollback()
			return 0, err
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if shard.IsStaleRoute(err) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
}

func (w *writer) step(ctx context.Context) error {
	w.ops++
	defer w.e.ops.Add(1)
	switch op := w.rnd.IntN(10); {
	case op < 3: // insert
		w.e.nextID++
		id := w.e.nextID
		it := item{tenant: fmt.Sprintf("tenant-%d", w.rnd.IntN(300)), val: w.rnd.Int64()}
		if _, err := w.exec(ctx, it.tenant, `INSERT INTO items (id, tenant, val) VALUES ($1, $2, $3)`, id, it.tenant, it.val); err != nil {
			return err
		}
		w.e.model[id] = it
	case op < 6: // update
		id := w.anyID()
		if id == 0 {
			return nil
		}
		it := w.e.model[id]
		it.val = w.rnd.Int64()
		n, err := w.exec(ctx, it.tenant, `UPDATE items SET val = $2, note = 'updated' WHERE id = $1`, id, it.val)
		if err != nil {
			return err
		}
		if n != 1 {
			w.fail("update of %d (%s) found %d rows on its shard", id, it.tenant, n)
		}
		w.e.model[id] = it
	case op < 7: // delete
		id := w.anyID()
		if id == 0 {
			return nil
		}
		n, err := w.exec(ctx, w.e.model[id].tenant, `DELETE FROM items WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n != 1 {
			w.fail("delete of %d found %d rows on its shard", id, n)
		}
		delete(w.e.model, id)
	default: // read
		id := w.anyID()
		if id == 0 {
			return nil
		}
		it := w.e.model[id]
		var val int64
		err := w.e.dbs[w.e.r.Map().Name(shard.KeyString(it.tenant))].QueryRowContext(ctx,
			`SELECT val FROM items WHERE id = $1`, id).Scan(&val)
		if err != nil || val != it.val {
			w.fail("read of %d (%s): %v, %d, want %d", id, it.tenant, err, val, it.val)
		}
	}
	return nil
}

// runWriter runs w until the returned stop is called; stop waits for it
// and reports its failures. The writer finishes the operation in hand
// (a cancelled ctx would leave its outcome unknown).
func runWriter(t *testing.T, e *migEnv, seed uint64) (stop func()) {
	w := &writer{e: e, rnd: rand.New(rand.NewPCG(seed, 1))}
	var stopping atomic.Bool
	done := make(chan error)
	go func() {
		for !stopping.Load() {
			if err := w.step(context.Background()); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return func() {
		t.Helper()
		stopping.Store(true)
		if err := <-done; err != nil {
			t.Fatalf("writer: %v", err)
		}
		for _, f := range w.errs {
			t.Error(f)
		}
		t.Logf("writer: %d operations", w.ops)
	}
}

// checkPlaced: every shard holds exactly the model's rows that live names
// it, with the model's values; nothing is lost or duplicated.
func (e *migEnv) checkPlaced(t *testing.T, live *shard.Map) {
	t.Helper()
	ctx := context.Background()
	seen := map[int64]string{}
	for _, name := range e.names() {
		rows, err := e.dbs[name].QueryContext(ctx, `SELECT id, tenant, val FROM items`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, val int64
			var tenant string
			if err := rows.Scan(&id, &tenant, &val); err != nil {
				t.Fatal(err)
			}
			if prev, dup := seen[id]; dup {
				t.Errorf("row %d on %s and %s", id, prev, name)
			}
			seen[id] = name
			want, ok := e.model[id]
			switch {
			case !ok:
				t.Errorf("row %d on %s: deleted, or never written", id, name)
			case want.val != val || want.tenant != tenant:
				t.Errorf("row %d on %s: (%s, %d), want (%s, %d)", id, name, tenant, val, want.tenant, want.val)
			case live.Name(shard.KeyString(tenant)) != name:
				t.Errorf("row %d (%s) on %s, map v%d names %s", id, tenant, name, live.Version(), live.Name(shard.KeyString(tenant)))
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for id := range e.model {
		if _, ok := seen[id]; !ok {
			t.Errorf("row %d lost", id)
		}
	}
	if len(seen) != len(e.model) {
		t.Errorf("%d rows on the shards, want %d", len(seen), len(e.model))
	}
}

// The 4 → 5 reshard with a writer running throughout and the migrating
// process "crashing" (its ctx cancelled) part way through the copy: a new
// Migration with the same ID resumes, cuts over, and every row ends on the
// shard the new map names, none lost or duplicated.
func TestDrillMigrationReshardWithWritersAndCrash(t *testing.T) {
	t.Parallel()
	e := newMigEnv(t, migRows())
	stop := runWriter(t, e, 1)
	ctx, crash := context.WithCancel(context.Background())
	batches := 0
	m := e.migration(t, shard.MigrateOptions{OnProgress: func(p shard.Progress) {
		if p.Phase == "copy" {
			if batches++; batches == 4 {
				crash()
			}
		}
	}})
	if err := m.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after the crash: %v", err)
	}
	if p, _ := m.Phase(context.Background()); p != shard.PhaseCopying {
		t.Fatalf("phase after the crash %q", p)
	}
	if e.r.Map() != e.from {
		t.Fatal("the map changed before cutover")
	}
	var resumedCopies int
	var fence time.Duration
	m2 := e.migration(t, shard.MigrateOptions{OnProgress: func(p shard.Progress) {
		switch p.Phase {
		case "copy":
			resumedCopies++
		case "cutover":
			fence = p.Fence
		}
	}})
	if err := m2.Run(context.Background()); err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	if e.r.Map() != e.to {
		t.Fatalf("router holds %v after cutover", e.r.Map())
	}
	e.waitOps(t, 50) // the writer works on the new map
	stop()
	if p, _ := m2.Phase(context.Background()); p != shard.PhaseCutOver {
		t.Fatalf("phase %q", p)
	}
	for id := range e.model {
		home := e.to.Name(shard.KeyString(e.model[id].tenant))
		var val int64
		if err := e.dbs[home].QueryRow(`SELECT val FROM items WHERE id = $1`, id).Scan(&val); err != nil || val != e.model[id].val {
			var where []string
			for n, db := range e.dbs {
				if db.QueryRow(`SELECT val FROM items WHERE id = $1`, id).Scan(&val) == nil {
					where = append(where, fmt.Sprintf("%s=%d", n, val))
				}
			}
			t.Errorf("before cleanup: row %d (%+v, from %s, home %s): %v %d; on %v", id, e.model[id], e.from.Name(shard.KeyString(e.model[id].tenant)), home, err, val, where)
		}
	}
	if err := m2.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.checkPlaced(t, e.to)
	t.Logf("%d rows; resumed copy: %d batches after the crash's %d; writes fenced for %v at cutover",
		migRows(), resumedCopies, batches, fence.Round(time.Millisecond))
}

// A row changed on the destination behind the migration's back fails the
// verify: the cutover is refused, the old map stays, writes go on, and
// Rollback removes the copies.
func TestMigrationVerifyFailureBlocksCutover(t *testing.T) {
	t.Parallel()
	for name, tamper := range map[string]string{
		"changed": `UPDATE items SET val = val + 1 WHERE id = (SELECT min(id) FROM items)`,
		"lost":    `DELETE FROM items WHERE id = (SELECT max(id) FROM items)`,
		"extra":   `INSERT INTO items (id, tenant, val) SELECT id + 1000000, tenant, val FROM items ORDER BY id LIMIT 1`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testVerifyFailure(t, tamper)
		})
	}
}

func testVerifyFailure(t *testing.T, tamper string) {
	e := newMigEnv(t, 600)
	ctx := context.Background()
	m := e.migration(t, shard.MigrateOptions{})
	if err := m.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Copy(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, err := m.Verify(ctx); err != nil || rep.Rows == 0 {
		t.Fatalf("verify before tampering: %+v %v", rep, err)
	}
	if _, err := e.dbs["e"].ExecContext(ctx, tamper); err != nil {
		t.Fatal(err)
	}
	err := m.Cutover(ctx)
	if !errors.Is(err, shard.ErrVerify) {
		t.Fatalf("Cutover after tampering: %v", err)
	}
	onePrefix(t, "verify", err)
	if e.r.Map() != e.from {
		t.Fatal("the map changed after a failed verify")
	}
	stop := runWriter(t, e, 2) // the fence is lifted: writes go on
	e.waitOps(t, 50)
	stop()
	if back, err := m.Rollback(ctx); err != nil || back != e.from {
		t.Fatalf("Rollback: %v %v", back, err)
	}
	if p, _ := m.Phase(ctx); p != shard.PhaseAborted {
		t.Fatalf("phase %q", p)
	}
	e.checkPlaced(t, e.from)
	var triggers int
	if err := e.dbs["a"].QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgname = 'ladder_shard_capture'`).Scan(&triggers); err != nil || triggers != 0 {
		t.Fatalf("capture left installed: %d %v", triggers, err)
	}
}

// After cutover, writes on the new shards, then Rollback: the old topology
// comes back (version 3), holding every row as written.
func TestMigrationRollbackAfterCutover(t *testing.T) {
	t.Parallel()
	e := newMigEnv(t, 800)
	ctx := context.Background()
	m := e.migration(t, shard.MigrateOptions{})
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	stop := runWriter(t, e, 3)
	e.waitOps(t, 100)
	back, err := m.Rollback(ctx)
	if err != nil {
		stop()
		t.Fatalf("Rollback: %v", err)
	}
	if back.Version() != 3 || e.r.Map() != back || back.Len() != 4 {
		t.Fatalf("after rollback the router holds %v", e.r.Map())
	}
	e.waitOps(t, 50)
	stop()
	if err := m.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	e.checkPlaced(t, back)
}

func TestMigrationRejectsBadOptions(t *testing.T) {
	j, _ := shard.NewJump(1)
	m1, _ := shard.NewMap(1, []string{"a"}, j)
	m2, _ := shard.NewMap(2, []string{"a"}, j)
	r := shard.NewRouter(m1)
	db := &sql.DB{}
	dbs := map[string]*sql.DB{"a": db}
	for _, c := range []struct {
		t    shard.Table
		from *shard.Map
		dbs  map[string]*sql.DB
		o    shard.MigrateOptions
	}{
		{migTable, m1, dbs, shard.MigrateOptions{Batch: -1}},
		{migTable, m1, dbs, shard.MigrateOptions{FenceTimeout: -1}},
		{migTable, m1, dbs, shard.MigrateOptions{FenceHold: -1}},
		{shard.Table{Name: "x; drop", KeyColumn: "k", PKColumn: "id"}, m1, dbs, shard.MigrateOptions{}},
		{shard.Table{Name: "x", KeyColumn: "k\"", PKColumn: "id"}, m1, dbs, shard.MigrateOptions{}},
		{migTable, m2, dbs, shard.MigrateOptions{}},
		{migTable, m1, map[string]*sql.DB{}, shard.MigrateOptions{}},
	} {
		_, err := shard.NewMigration(db, c.dbs, c.t, r, c.from, m2, c.o)
		if !errors.Is(err, shard.ErrInvalidOptions) {
			t.Fatalf("%+v: %v", c, err)
		}
		onePrefix(t, "NewMigration", err)
	}
}

// A range split (Vitess style, "80-" into "80-c0" and "c0-") reads only the
// shard that sends rows: the plan is exact for range maps.
func TestMigrationRangeSplitCopiesOnlyTheSplitShard(t *testing.T) {
	t.Parallel()
	r1, _ := shard.ParseRanges("-80,80-")
	r2, _ := shard.ParseRanges("-80,80-c0,c0-")
	from, _ := shard.NewMap(1, r1.Names(), r1)
	to, _ := shard.NewMap(2, r2.Names(), r2)
	e := newMigEnvMaps(t, 1000, from, to)
	read := map[string]int{}
	m := e.migration(t, shard.MigrateOptions{OnProgress: func(p shard.Progress) {
		if p.Phase == "copy" {
			read[p.Shard] += p.Rows
		}
	}})
	if f := m.Plan().Moved; f != 0.5 {
		t.Fatalf("plan moves %v", f)
	}
	stop := runWriter(t, e, 5)
	if err := m.Run(context.Background()); err != nil {
		stop()
		t.Fatal(err)
	}
	e.waitOps(t, 30)
	stop()
	if read["-80"] != 0 || read["80-"] == 0 {
		t.Fatalf("rows read per shard: %v", read)
	}
	if err := m.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.checkPlaced(t, to)
}
