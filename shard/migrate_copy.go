package shard

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Copy copies every row whose shard changes from the old map to the next,
// shard by shard in primary-key order, Batch rows per statement, saving
// its position in the control database after each batch: after a crash it
// resumes where it stopped (rows copied twice are simply written again).
// Writes made meanwhile are caught by the change capture and replayed by
// CatchUp. The key hash is computed here, not in SQL, so Copy reads every
// row of the old shards (for two range maps, only of the shards the plan
// says send rows) and writes only the moving ones.
func (m *Migration) Copy(ctx context.Context) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	phase, err := m.Phase(ctx)
	if err != nil {
		return err
	}
	switch phase {
	case PhaseCopying:
	case PhaseCopied:
		return nil
	default:
		return fmt.Errorf("%w: Copy in phase %q (run Setup first)", ErrPhase, phase)
	}
	for _, s := range m.from.Shards() {
		if !m.sends(s) {
			continue
		}
		if err := m.copyShard(ctx, s); err != nil {
			return err
		}
	}
	m.log.Info("shard migration copied", "rows", m.copied)
	return m.setPhase(ctx, PhaseCopied)
}

func (m *Migration) copyShard(ctx context.Context, s string) error {
	var last sql.NullString
	var done bool
	err := m.ctl.QueryRowContext(ctx, `SELECT last_pk, done FROM ladder_shard_copy WHERE id = $1 AND shard = $2`,
		m.o.ID, s).Scan(&last, &done)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("shard: migration: reading copy progress of shard %s: %w", s, err)
	}
	if done {
		return nil
	}
	src := m.dbs[s]
	for {
		var rs *sql.Rows
		if last.Valid {
			rs, err = src.QueryContext(ctx, m.q.selectAfter, last.String, m.o.Batch)
		} else {
			rs, err = src.QueryContext(ctx, m.q.selFirst, m.o.Batch)
		}
		var rows []row
		if err == nil {
			rows, err = scanRows(rs)
		}
		if err != nil {
			return fmt.Errorf("shard: migration: reading shard %s: %w", s, err)
		}
		moving := map[string][]row{}
		for _, r := range rows {
			if home := m.to.Name(m.o.Hash(r.key)); home != s && m.from.Name(m.o.Hash(r.key)) == s {
				moving[home] = append(moving[home], r)
			}
		}
		for _, home := range sortedKeys(moving) {
			err := m.apply(ctx, nil, home, func(tx queryer) error { return m.upsertRows(ctx, tx, moving[home]) })
			if err != nil {
				return fmt.Errorf("shard: migration: copying from shard %s to %s: %w", s, home, err)
			}
			m.copied += int64(len(moving[home]))
		}
		done = len(rows) < m.o.Batch
		if len(rows) > 0 {
			last = sql.NullString{String: rows[len(rows)-1].pk, Valid: true}
		}
		_, err = m.ctl.ExecContext(ctx, `INSERT INTO ladder_shard_copy (id, shard, last_pk, done) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id, shard) DO UPDATE SET last_pk = EXCLUDED.last_pk, done = EXCLUDED.done`, m.o.ID, s, last, done)
		if err != nil {
			return fmt.Errorf("shard: migration: saving copy progress of shard %s: %w", s, err)
		}
		if m.o.OnProgress != nil {
			m.o.OnProgress(Progress{Phase: "copy", Shard: s, Rows: len(rows), Copied: m.copied})
		}
		if done {
			return nil
		}
	}
}

func sortedKeys[V any](mp map[string]V) []string {
	ks := make([]string, 0, len(mp))
	for k := range mp {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// apply runs f on shard name: in txs[name] when the fence holds the
// shard, else in a transaction of its own that it commits.
func (m *Migration) apply(ctx context.Context, txs map[string]*sql.Tx, name string, f func(queryer) error) error {
	if txs != nil {
		return f(txs[name])
	}
	tx, err := applyTx(ctx, m.dbs[name])
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// via returns what to read shard name through: its fenced transaction or
// its database.
func (m *Migration) via(txs map[string]*sql.Tx, name string) queryer {
	if txs != nil {
		return txs[name]
	}
	return m.dbs[name]
}

// CatchUp replays the changes recorded so far on the old map's shards: for
// each changed primary key it writes the row's current state where the
// next map puts it and removes it from every other shard. It returns the
// number of changes replayed. Changes recorded while it runs are left for
// the next call (or for Cutover's final replay).
func (m *Migration) CatchUp(ctx context.Context) (int, error) {
	if err := m.prepare(ctx); err != nil {
		return 0, err
	}
	total := 0
	for _, s := range m.from.Shards() {
		n, err := m.replayShard(ctx, nil, s)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// replayShard replays shard s's change table in batches, deleting each
// batch once applied (by sequence number, not up to a high-water mark: a
// transaction that commits late may hold a lower one).
func (m *Migration) replayShard(ctx context.Context, txs map[string]*sql.Tx, s string) (int, error) {
	var upTo int64
	if err := m.via(txs, s).QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM ladder_shard_changes`).Scan(&upTo); err != nil {
		return 0, fmt.Errorf("shard: migration: reading changes of shard %s: %w", s, err)
	}
	total := 0
	for {
		rs, err := m.via(txs, s).QueryContext(ctx, `SELECT seq, pk FROM ladder_shard_changes
			WHERE tbl = $1 AND seq <= $2 ORDER BY seq LIMIT $3`, m.t.Name, upTo, m.o.Batch)
		if err != nil {
			return total, fmt.Errorf("shard: migration: reading changes of shard %s: %w", s, err)
		}
		var seqs []int64
		var pks []string
		seen := map[string]bool{}
		for rs.Next() {
			var seq int64
			var pk string
			if err := rs.Scan(&seq, &pk); err != nil {
				rs.Close()
				return total, fmt.Errorf("shard: migration: %w", err)
			}
			seqs = append(seqs, seq)
			if !seen[pk] {
				seen[pk] = true
				pks = append(pks, pk)
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return total, fmt.Errorf("shard: migration: %w", err)
		}
		if len(seqs) == 0 {
			return total, nil
		}
		if err := m.resync(ctx, txs, s, pks); err != nil {
			return total, err
		}
		if m.touched != nil {
			if m.touched[s] == nil {
				m.touched[s] = map[string]bool{}
			}
			for _, pk := range pks {
				m.touched[s][pk] = true
			}
		}
		js, _ := json.Marshal(seqs)
		if _, err := m.via(txs, s).ExecContext(ctx, `DELETE FROM ladder_shard_changes
			WHERE seq IN (SELECT json_array_elements_text($1::json)::bigint)`, string(js)); err != nil {
			return total, fmt.Errorf("shard: migration: trimming changes of shard %s: %w", s, err)
		}
		total += len(seqs)
		if m.o.OnProgress != nil {
			m.o.OnProgress(Progress{Phase: "replay", Shard: s, Rows: len(seqs), Copied: m.copied})
		}
		if len(seqs) < m.o.Batch {
			return total, nil
		}
	}
}

// keyState is where the rows of one primary key must be: the row holding
// its current state (ok false: deleted) and the shards that must hold it.
type keyState struct {
	r        row
	ok       bool
	from, to string // the shards the old and the next map name for its key
}

// placement reads the rows with primary keys pks (changed on shard s) on
// every shard and decides, for each, which row holds its current state:
// the row on the shard of the old map that the old map names for its key
// (the application's row: it may have moved the row there itself, a
// delete on one shard and an insert on another, when its key changed);
// failing that, the row s holds (a key changed in place by an UPDATE, the
// row not yet on the shard its new key routes to); failing that, none:
// the row was deleted. Rows elsewhere are copies.
func (m *Migration) placement(ctx context.Context, txs map[string]*sql.Tx, s string, pks []string) (map[string]keyState, map[string]map[string]row, error) {
	held := map[string]map[string]row{} // shard → pk → row
	for _, d := range m.shardNames() {
		rows, err := m.rowsByKeys(ctx, m.via(txs, d), pks)
		if err != nil {
			return nil, nil, fmt.Errorf("shard: migration: reading changed rows of shard %s: %w", d, err)
		}
		held[d] = make(map[string]row, len(rows))
		for _, r := range rows {
			held[d][r.pk] = r
		}
	}
	out := make(map[string]keyState, len(pks))
	for _, pk := range pks {
		var st keyState
		// s first: of two rows the old map places, the one whose change is
		// being replayed.
		for _, d := range append([]string{s}, m.from.Shards()...) {
			if r, ok := held[d][pk]; ok && m.placed(d, r) {
				st = keyState{r: r, ok: true}
				break
			}
		}
		if !st.ok {
			st.r, st.ok = held[s][pk]
		}
		if st.ok {
			h := m.o.Hash(st.r.key)
			st.from, st.to = m.from.Name(h), m.to.Name(h)
		}
		out[pk] = st
	}
	return out, held, nil
}

// placed reports whether shard d holds r where the old map places it (an
// application's row, not a copy).
func (m *Migration) placed(d string, r row) bool {
	return m.from.Index(d) >= 0 && m.from.Name(m.o.Hash(r.key)) == d
}

// resync makes the rows with primary keys pks (changed on shard s) hold
// where the maps put them: the row holding a key's current state (see
// placement) is written on the shard the old map names for its key (where
// it normally is already) and on the one the next map names, and removed
// from every other shard; a deleted row is removed from every shard. A row
// the old map places where it is is never removed (see placed).
func (m *Migration) resync(ctx context.Context, txs map[string]*sql.Tx, s string, pks []string) error {
	states, held, err := m.placement(ctx, txs, s, pks)
	if err != nil {
		return err
	}
	for _, d := range m.shardNames() {
		var del []string
		var up []row
		for _, pk := range pks {
			st := states[pk]
			r, has := held[d][pk]
			switch {
			case st.ok && (d == st.from || d == st.to):
				if !has || r.js != st.r.js {
					up = append(up, st.r)
				}
			case has && !m.placed(d, r):
				// A copy. A row the old map places where it is (the
				// application's, half way through moving it itself) is
				// left to the application: its own change replays it.
				del = append(del, pk)
			}
		}
		if len(del) == 0 && len(up) == 0 {
			continue
		}
		err := m.apply(ctx, txs, d, func(tx queryer) error {
			if err := m.deleteKeys(ctx, tx, del); err != nil {
				return err
			}
			return m.upsertRows(ctx, tx, up)
		})
		if err != nil {
			return fmt.Errorf("shard: migration: replaying changes of shard %s on %s: %w", s, d, err)
		}
	}
	return nil
}
