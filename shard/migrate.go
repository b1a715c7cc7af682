package shard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"
)

var (
	// ErrVerify is returned by [Migration.Verify] and [Migration.Cutover]
	// when the rows on the new shards do not match the rows they came from;
	// the cutover does not happen.
	ErrVerify = errors.New("shard: migration verify failed")
	// ErrPhase is returned by a migration step called in the wrong phase
	// (Cutover before Copy, Rollback after Cleanup, …).
	ErrPhase = errors.New("shard: migration step out of order")
)

// Table names the table a [Migration] moves: its name, the column holding
// the shard key (the value the application hashes to route the row) and
// its primary key column. The primary key must identify a row across all
// shards (a UUID, a global sequence, or the shard key itself), because the
// migration finds a row's copies on other shards by it, so it must be
// unique by itself (the primary key or a unique index on that column
// alone; a column of a composite key is refused). Names are plain SQL
// identifiers ([A-Za-z_][A-Za-z0-9_]*), optionally schema-qualified for
// the table, and are used quoted: case matters, "Orders" is not orders.
// Identity columns (GENERATED ALWAYS too) are copied with their values;
// generated columns are computed again on the destination.
type Table struct {
	Name, KeyColumn, PKColumn string
}

// MigrateOptions configures a [Migration].
type MigrateOptions struct {
	// ID names the migration's progress in the control database; a
	// migration started again with the same ID resumes. Empty:
	// "<table>:v<from>-v<to>".
	ID string
	// Hash turns the shard-key column, read as text (key::text), into the
	// key hash the maps route by. It must be what the application uses: nil
	// is KeyString; for an integer key routed with KeyUint64, parse it.
	Hash func(key string) uint64
	// Batch is the number of rows copied, replayed or verified per
	// statement. Zero: 500. Negative: an error.
	Batch int
	// FenceTimeout bounds the wait for the write fence (the table locks on
	// every shard, all of them together) at cutover; past it the cutover
	// fails, the locks taken are released, and it can be tried again.
	// Zero: 5s. Negative: an error.
	FenceTimeout time.Duration
	// FenceHold bounds how long the fence may hold writes once taken (the
	// last replay, the recheck and the commit on every shard): past it the
	// cutover is abandoned, the fence lifted on every shard that answers,
	// and Cutover can be run again. Both bounds are kept by this process,
	// not by the servers, so that a shard that hangs (a frozen host, a
	// network that drops packets) cannot hold the other shards' writes.
	// Zero: 30s. Negative: an error.
	FenceHold time.Duration
	// OnProgress, if set, is called after each copied or replayed batch.
	OnProgress func(Progress)
	// Logger logs phase changes. Nil: slog.Default().
	Logger *slog.Logger

	prevMin uint64 // a rollback's: the minimum version to restore if its cutover fails
}

// Progress reports one step of a migration.
type Progress struct {
	Phase  string        // "copy", "replay" or "cutover" (once, after the swap)
	Shard  string        // the shard read from
	Rows   int           // rows (or changes) in the batch
	Copied int64         // rows copied so far by this process
	Fence  time.Duration // cutover: how long writes were fenced
}

// Migration phases, persisted in the control database.
const (
	PhaseCopying    = "copying"     // set up; copying rows
	PhaseCopied     = "copied"      // every moving row copied; replaying changes
	PhaseCutOver    = "cut_over"    // the new map is live; the reverse stream runs
	PhaseRolledBack = "rolled_back" // cut back over to the old topology
	PhaseAborted    = "aborted"     // given up before cutover; copies removed
	PhaseCleaned    = "cleaned"     // triggers and stale copies removed
)

var ident = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Migration moves the rows of one table between PostgreSQL shards (each
// shard its own database) when the shard map changes from one [Map] to the
// next, while the application keeps writing, in the steps of Vitess's
// Reshard: copy, catch up, verify (VDiff), switch traffic, and reverse
// traffic to roll back.
//
// # Keeping in step: change capture, not dual write
//
// Setup installs a trigger on the table in every shard's database that
// records the primary key of every inserted, updated or deleted row in a
// change table (ladder_shard_changes). Copy then copies, in primary-key
// order and in batches, every row whose shard under the next map differs
// from its shard under the old one, and CatchUp replays the change table:
// for each changed key it reads the row's current state on the shard that
// holds it and writes that state (or its absence) where the next map puts
// it. Replay is idempotent and order-free: it re-syncs keys, it does not
// re-apply statements. We chose change capture over dual write because it
// catches writes from every writer (other services, psql, migrations,
// background jobs) and not only those that go through a ladder-aware
// writer, and a crash of the migrating process loses nothing: the trigger
// keeps recording while it is down.
//
// # Cutover and the write fence
//
// Cutover first verifies every moved row without fencing anything (row
// counts and checksums per primary-key range, per source and destination
// shard, as VDiff), then rechecks what differed or was replayed meanwhile
// until little is left. It then opens a transaction on every shard and
// takes the table in EXCLUSIVE mode (reads go on; writes wait, at most
// FenceTimeout for the locks on all shards and FenceHold once taken), which also waits for every write
// already in flight. Under that fence it replays the last changes,
// rechecks the ranges still different and every key replayed since the
// unfenced pass (so the fence lasts as long as the last writes take to
// check, not the table), sets the table's minimum map version to the next
// map's version, commits, and swaps the router to the next map. Writes that waited behind
// the fence then run against the new rule: a write must be tagged with the
// version of the map it was routed by ([TagTx]) and a write tagged with an
// older version (or untagged) is refused with an error [IsStaleRoute]
// recognises, so the writer reloads the map and retries on the right
// shard. A writer that does not tag its transactions is refused on every
// shard of the migration from cutover until Cleanup: tag, or stop such
// writers until Cleanup. Tags live in a transaction (set_config local), so
// write in transactions. In a fleet, each instance has its own Router:
// publish the new map to all of them; the refusal keeps an instance that has
// not loaded it yet from writing to the wrong shard.
//
// # What a migration guarantees
//
// After a successful Cutover every row lives on the shard the next map
// names, with the content it had when the fence was taken plus every write
// accepted after; no row is lost or duplicated (the verify proved counts
// and checksums equal before the swap). A failed verify leaves the old map
// in place and the fence lifted. A crash of the migrating process at any
// point before Cutover's commit is resumed by running the same migration
// (same ID) again. A crash inside Cutover, after some shards committed the
// new minimum version but before the swap, leaves those shards refusing
// writes routed by the old map until the migration is run again (Run
// completes the cutover) or rolled back (which removes the capture). Rollback after cutover replays what was written on the
// new shards back to the old ones and cuts back over (its own fence and
// verify), restoring the old topology under a new version.
//
// # What it does not guarantee
//
// Reads are not fenced: a reader that routed by the old map just before
// the swap reads the old shard's copy, which is equal to the moved row
// until the first write after cutover. The old shards keep their copies of
// moved rows (for Rollback) until Cleanup; a reader that bypasses the map
// sees them. A shard key changed by an UPDATE moves its row at the next
// replay, not at once; an application that moves a row itself when its key
// changes (a delete on one shard, an insert under the same primary key on
// the one its new key routes to) is followed: the row where the old map
// places it is the one replayed, and is never removed by the replay. TRUNCATE and schema changes are not captured: make
// none during a migration. Foreign keys, sequences, and tables other than
// the one named are not moved. The trigger costs every write a row in the
// change table until Cleanup. The primary key must be unique across shards.
type Migration struct {
	ctl      *sql.DB
	dbs      map[string]*sql.DB
	t        Table
	q        tableSQL
	r        *Router
	from, to *Map
	o        MigrateOptions
	log      *slog.Logger
	copied   int64
	plan     *Reshard
	touched  map[string]map[string]bool // shard → keys replayed since Cutover's unfenced verify began
}

// NewMigration prepares the move of table's rows from map from to map to,
// to be switched on r (which must hold from). shards holds a database for
// every shard name of both maps; control holds the migration's progress
// (it may be one of the shards). Nothing is written until [Migration.Run]
// or [Migration.Setup].
func NewMigration(control *sql.DB, shards map[string]*sql.DB, table Table, r *Router, from, to *Map, opts MigrateOptions) (*Migration, error) {
	switch {
	case control == nil:
		return nil, invalid("NewMigration control: nil")
	case r == nil || from == nil || to == nil:
		return nil, invalid("NewMigration: nil router or map")
	case to.Version() <= from.Version():
		return nil, invalid("NewMigration to version %d: must be > from version %d", to.Version(), from.Version())
	case opts.Batch < 0:
		return nil, invalid("MigrateOptions.Batch %d: must be ≥ 0", opts.Batch)
	case opts.FenceTimeout < 0:
		return nil, invalid("MigrateOptions.FenceTimeout %v: must be ≥ 0", opts.FenceTimeout)
	case opts.FenceHold < 0:
		return nil, invalid("MigrateOptions.FenceHold %v: must be ≥ 0", opts.FenceHold)
	}
	schema, name, qualified := cutLast(table.Name, ".")
	if !ident.MatchString(name) || qualified && !ident.MatchString(schema) {
		return nil, invalid("Table.Name %q: must be an identifier", table.Name)
	}
	if !ident.MatchString(table.KeyColumn) {
		return nil, invalid("Table.KeyColumn %q: must be an identifier", table.KeyColumn)
	}
	if !ident.MatchString(table.PKColumn) {
		return nil, invalid("Table.PKColumn %q: must be an identifier", table.PKColumn)
	}
	for _, n := range append(from.Shards(), to.Shards()...) {
		if shards[n] == nil {
			return nil, invalid("NewMigration shards: no database for shard %q", n)
		}
	}
	if opts.Batch == 0 {
		opts.Batch = 500
	}
	if opts.FenceTimeout == 0 {
		opts.FenceTimeout = 5 * time.Second
	}
	if opts.FenceHold == 0 {
		opts.FenceHold = 30 * time.Second
	}
	if opts.Hash == nil {
		opts.Hash = KeyString
	}
	if opts.ID == "" {
		opts.ID = fmt.Sprintf("%s:v%d-v%d", table.Name, from.Version(), to.Version())
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	plan, err := Plan(from, to, PlanOptions{Samples: 1 << 16})
	if err != nil {
		return nil, err
	}
	return &Migration{
		ctl: control, dbs: shards, t: table, r: r, from: from, to: to, o: opts, plan: plan,
		log: log.With("migration", opts.ID),
	}, nil
}

// Plan returns the plan of the move ([Plan] over a sample of the hash
// space, exact for two range maps): which shards send keys where, and the
// fraction that moves.
func (m *Migration) Plan() *Reshard { return m.plan }

// sends reports whether shard s may hold rows that move: for two range
// maps the plan is exact and a shard with no outgoing range is skipped;
// otherwise every shard is read (a sample cannot prove a shard sends
// nothing).
func (m *Migration) sends(s string) bool {
	if m.plan.Basis != BasisRanges {
		return true
	}
	for _, f := range m.plan.Flows {
		if f.From == s {
			return true
		}
	}
	return false
}

func cutLast(s, sep string) (before, after string, found bool) {
	for i := len(s) - len(sep); i >= 0; i-- {
		if s[i:i+len(sep)] == sep {
			return s[:i], s[i+len(sep):], true
		}
	}
	return "", s, false
}

// shardNames lists every shard of both maps, sorted (the fence's lock
// order).
func (m *Migration) shardNames() []string {
	n := append(m.from.Shards(), m.to.Shards()...)
	slices.Sort(n)
	return slices.Compact(n)
}

// Run takes the migration from wherever it stands (new, or resumed after a
// crash) to a live next map: Setup, Copy, CatchUp, Cutover.
func (m *Migration) Run(ctx context.Context) error {
	phase, err := m.Phase(ctx)
	if err != nil {
		return err
	}
	switch phase {
	case "", PhaseCopying, PhaseCopied:
	case PhaseCutOver:
		return nil
	default:
		return fmt.Errorf("%w: Run in phase %s", ErrPhase, phase)
	}
	if err := m.Setup(ctx); err != nil {
		return err
	}
	if err := m.Copy(ctx); err != nil {
		return err
	}
	if _, err := m.CatchUp(ctx); err != nil {
		return err
	}
	return m.Cutover(ctx)
}
