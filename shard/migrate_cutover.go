package shard

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cutover switches to the next map: it catches up, takes the write fence
// (see [Migration]), replays the last changes, verifies, raises the
// shards' minimum map version, lifts the fence and swaps the router. A
// failed verify returns an error wrapping ErrVerify with the report and
// changes nothing (the fence is lifted, the old map stays); so does a
// fence not taken within FenceTimeout.
func (m *Migration) Cutover(ctx context.Context) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	phase, err := m.Phase(ctx)
	if err != nil {
		return err
	}
	if phase != PhaseCopied {
		return fmt.Errorf("%w: Cutover in phase %q (Copy first)", ErrPhase, phase)
	}
	if cur := m.r.Map(); cur != m.from {
		return fmt.Errorf("%w: the router holds %v, the migration starts from version %d", ErrConflict, cur, m.from.Version())
	}
	if _, err := m.CatchUp(ctx); err != nil { // shrink what the fence must wait for
		return err
	}
	// Verify everything before the fence; then recheck, still unfenced,
	// what differed and what was replayed meanwhile, a few times, so that
	// under the fence only the last writes remain to recheck.
	m.touched = map[string]map[string]bool{}
	defer func() { m.touched = nil }()
	pre, err := m.verify(ctx, nil)
	for i := 0; i < 3 && (err == nil || errors.Is(err, ErrVerify)) && len(pre.Diffs)+m.touchedKeys() > m.o.Batch; i++ {
		if _, err := m.CatchUp(ctx); err != nil {
			return err
		}
		t := m.touched
		m.touched = map[string]map[string]bool{}
		pre, err = m.recheck(ctx, nil, pre.Diffs, t)
	}
	if err != nil && !errors.Is(err, ErrVerify) {
		return err
	}
	// The fence's bounds are kept here, by cancelling the fence's context:
	// lock_timeout is enforced by the server, and a shard that hangs (a
	// frozen host) enforces nothing, while the shards already fenced would
	// refuse writes for as long as it hangs.
	fctx, lift := context.WithCancel(ctx)
	defer lift()
	fenced := time.Now()
	expired := time.AfterFunc(m.o.FenceTimeout, lift)
	txs, err := m.fence(fctx)
	if !expired.Stop() && ctx.Err() == nil {
		for _, tx := range txs {
			_ = tx.Rollback()
		}
		return fmt.Errorf("shard: migration: cutover: the write fence was not taken within FenceTimeout %v: %w", m.o.FenceTimeout, context.DeadlineExceeded)
	}
	if err != nil {
		return err
	}
	held := time.AfterFunc(m.o.FenceHold, lift)
	defer held.Stop()
	rollback := func(err error) error {
		for _, tx := range txs {
			_ = tx.Rollback()
		}
		if fctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("%w; cutover abandoned: writes were fenced for FenceHold %v", err, m.o.FenceHold)
		}
		return err
	}
	for _, s := range m.from.Shards() {
		if _, err := m.replayShard(fctx, txs, s); err != nil {
			return rollback(err)
		}
	}
	if rep, err := m.recheck(fctx, txs, pre.Diffs, m.touched); err != nil {
		if rep != nil {
			m.log.Warn("shard migration verify failed: cutover refused", "diffs", len(rep.Diffs), "err", err)
		}
		return rollback(err)
	}
	if err := m.setMinVersion(fctx, txs, m.to.Version()); err != nil {
		return rollback(err)
	}
	var committed []string
	for _, name := range m.shardNames() {
		if err := txs[name].Commit(); err != nil {
			// The commit's outcome on name is unknown (it may have been
			// applied before its answer was lost): undo it there too.
			m.undoMinVersion(ctx, append(committed, name))
			return rollback(fmt.Errorf("shard: migration: cutover: committing on shard %s: %w", name, err))
		}
		committed = append(committed, name)
	}
	held.Stop()
	if err := m.r.Swap(m.from, m.to); err != nil {
		m.undoMinVersion(ctx, committed)
		return err
	}
	fence := time.Since(fenced)
	m.log.Info("shard migration cut over", "version", m.to.Version(), "fence", fence)
	if m.o.OnProgress != nil {
		m.o.OnProgress(Progress{Phase: "cutover", Copied: m.copied, Fence: fence})
	}
	if err := m.setPhase(ctx, PhaseCutOver); err != nil {
		return fmt.Errorf("shard: migration: cut over to version %d, but: %w", m.to.Version(), err)
	}
	return nil
}

// fence opens a transaction on every shard, in name order, holding the
// table in EXCLUSIVE mode: reads go on, writes wait until it ends.
func (m *Migration) fence(ctx context.Context) (map[string]*sql.Tx, error) {
	txs := map[string]*sql.Tx{}
	for _, name := range m.shardNames() {
		tx, err := applyTx(ctx, m.dbs[name])
		if err == nil {
			_, err = tx.ExecContext(ctx, fmt.Sprintf("SET LOCAL lock_timeout = %d", max(1, m.o.FenceTimeout.Milliseconds())))
			if err == nil {
				_, err = tx.ExecContext(ctx, "LOCK TABLE "+m.q.tbl+" IN EXCLUSIVE MODE")
			}
			if err != nil {
				_ = tx.Rollback()
			}
		}
		if err != nil {
			for _, tx := range txs {
				_ = tx.Rollback()
			}
			return nil, fmt.Errorf("shard: migration: fencing writes on shard %s: %w", name, err)
		}
		txs[name] = tx
	}
	return txs, nil
}

func (m *Migration) setMinVersion(ctx context.Context, txs map[string]*sql.Tx, v uint64) error {
	for _, name := range m.shardNames() {
		if _, err := m.via(txs, name).ExecContext(ctx, `UPDATE ladder_shard_ctl SET min_version = $1 WHERE tbl = $2`,
			int64(v), m.t.Name); err != nil {
			return fmt.Errorf("shard: migration: setting the minimum map version on shard %s: %w", name, err)
		}
	}
	return nil
}

// undoMinVersion puts back the old map's minimum version on the shards
// where a failed cutover had (or may have) committed the new one. It runs
// even when ctx is done, bounded by FenceHold per shard, so that a shard
// that hangs cannot hang it.
func (m *Migration) undoMinVersion(ctx context.Context, names []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.o.FenceHold)
	defer cancel()
	prev := int64(0)
	if m.o.prevMin > 0 {
		prev = int64(m.o.prevMin)
	}
	for _, name := range names {
		if _, err := m.dbs[name].ExecContext(ctx, `UPDATE ladder_shard_ctl SET min_version = $1 WHERE tbl = $2`,
			prev, m.t.Name); err != nil {
			m.log.Error("shard migration: could not lower the minimum map version after a failed cutover: writes there are refused until fixed",
				"shard", name, "err", err)
		}
	}
}

// Rollback undoes the migration. Before cutover it aborts: the copies on
// the new shards are deleted, the change capture removed and the old map
// stays. After cutover it reverses the direction: what was written on the
// new shards since is replayed onto the old ones (the change capture kept
// recording), and a cutover of its own (fence, verify, swap) puts the old
// topology back under version to.Version()+1, which it returns.
func (m *Migration) Rollback(ctx context.Context) (*Map, error) {
	if err := m.prepare(ctx); err != nil {
		return nil, err
	}
	phase, err := m.Phase(ctx)
	if err != nil {
		return nil, err
	}
	switch phase {
	case "", PhaseCopying, PhaseCopied:
		if err := m.purge(ctx, m.from); err != nil {
			return nil, err
		}
		if err := m.uninstall(ctx); err != nil {
			return nil, err
		}
		m.log.Info("shard migration aborted")
		return m.from, m.setPhase(ctx, PhaseAborted)
	case PhaseCutOver:
	default:
		return nil, fmt.Errorf("%w: Rollback in phase %s", ErrPhase, phase)
	}
	back, err := NewMap(m.to.Version()+1, m.from.Shards(), m.from.Strategy())
	if err != nil {
		return nil, err
	}
	o := m.o
	o.ID = m.o.ID + ":rollback"
	o.prevMin = m.to.Version()
	rev, err := NewMigration(m.ctl, m.dbs, m.t, m.r, m.to, back, o)
	if err != nil {
		return nil, err
	}
	rev.q = m.q
	if p, err := rev.Phase(ctx); err != nil {
		return nil, err
	} else if p == "" {
		// The rows are already on both sides, kept in step since the
		// cutover: nothing to copy.
		if err := rev.setPhase(ctx, PhaseCopied); err != nil {
			return nil, err
		}
	}
	if err := rev.Cutover(ctx); err != nil {
		return nil, err
	}
	m.log.Info("shard migration rolled back", "version", back.Version())
	return back, m.setPhase(ctx, PhaseRolledBack)
}

// Cleanup ends a migration that cut over (or rolled back): it deletes the
// copies left on the shards that no longer own them and removes the change
// capture, lifting the tagging rule. After it, Rollback is no longer
// possible (a new migration in the other direction is).
func (m *Migration) Cleanup(ctx context.Context) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	phase, err := m.Phase(ctx)
	if err != nil {
		return err
	}
	live := m.to
	switch phase {
	case PhaseCutOver:
	case PhaseRolledBack:
		live = m.r.Map()
	case PhaseAborted, PhaseCleaned:
		return nil
	default:
		return fmt.Errorf("%w: Cleanup in phase %q (before cutover use Rollback)", ErrPhase, phase)
	}
	if err := m.purge(ctx, live); err != nil {
		return err
	}
	if err := m.uninstall(ctx); err != nil {
		return err
	}
	m.log.Info("shard migration cleaned up")
	return m.setPhase(ctx, PhaseCleaned)
}

// purge deletes, on every shard, the rows that live names elsewhere.
func (m *Migration) purge(ctx context.Context, live *Map) error {
	for _, s := range m.shardNames() {
		var last sql.NullString
		for {
			var rs *sql.Rows
			var err error
			if last.Valid {
				rs, err = m.dbs[s].QueryContext(ctx, m.q.selectAfter, last.String, m.o.Batch)
			} else {
				rs, err = m.dbs[s].QueryContext(ctx, m.q.selFirst, m.o.Batch)
			}
			var rows []row
			if err == nil {
				rows, err = scanRows(rs)
			}
			if err != nil {
				return fmt.Errorf("shard: migration: reading shard %s: %w", s, err)
			}
			var del []string
			for _, r := range rows {
				if live.Index(s) < 0 || live.Name(m.o.Hash(r.key)) != s {
					del = append(del, r.pk)
				}
			}
			if err := m.apply(ctx, nil, s, func(tx queryer) error { return m.deleteKeys(ctx, tx, del) }); err != nil {
				return fmt.Errorf("shard: migration: deleting copies on shard %s: %w", s, err)
			}
			if len(rows) < m.o.Batch {
				break
			}
			last = sql.NullString{String: rows[len(rows)-1].pk, Valid: true}
		}
	}
	return nil
}

// uninstall removes the change capture from every shard.
func (m *Migration) uninstall(ctx context.Context) error {
	var errs []error
	for _, s := range m.shardNames() {
		for _, q := range []string{
			"DROP TRIGGER IF EXISTS ladder_shard_capture ON " + m.q.tbl,
			"DROP FUNCTION IF EXISTS " + m.q.trigFn + "()",
		} {
			if _, err := m.dbs[s].ExecContext(ctx, q); err != nil {
				errs = append(errs, fmt.Errorf("shard: migration: removing change capture on shard %s: %w", s, err))
			}
		}
		for _, q := range []string{"DELETE FROM ladder_shard_changes WHERE tbl = $1", "DELETE FROM ladder_shard_ctl WHERE tbl = $1"} {
			if _, err := m.dbs[s].ExecContext(ctx, q, m.t.Name); err != nil && !isUndefinedTable(err) {
				errs = append(errs, fmt.Errorf("shard: migration: removing change capture on shard %s: %w", s, err))
			}
		}
	}
	return errors.Join(errs...)
}

func (m *Migration) touchedKeys() int {
	n := 0
	for _, ks := range m.touched {
		n += len(ks)
	}
	return n
}
