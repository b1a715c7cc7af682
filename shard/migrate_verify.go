package shard

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// VerifyReport is the outcome of comparing the moved rows with their
// copies, as Vitess's VDiff: per source shard, per destination shard and
// per primary-key range (the source's batches), the row count and a
// checksum (the sum of a 64-bit hash of each row's JSON) on both sides.
type VerifyReport struct {
	Rows   int64       // moved rows compared
	Ranges int         // (source, destination, range) triples compared
	Diffs  []RangeDiff // the triples that differ
}

// RangeDiff is one primary-key range whose moved rows differ between the
// source shard and the destination.
type RangeDiff struct {
	Source, Dest string
	// After and Upto bound the primary keys: After < pk ≤ Upto ("" means
	// unbounded on that side).
	After, Upto string
	// Keys, when > 0, marks a check of that many changed primary keys one
	// by one (After and Upto are the first and last), not a range.
	Keys                         int
	SourceRows, DestRows         int64
	SourceChecksum, DestChecksum uint64
}

func (d RangeDiff) String() string {
	if d.Keys > 0 {
		return fmt.Sprintf("%s→%s %d changed keys [%s … %s]: %d rows vs %d, or contents differ",
			d.Source, d.Dest, d.Keys, d.After, d.Upto, d.SourceRows, d.DestRows)
	}
	return fmt.Sprintf("%s→%s pk (%s, %s]: %d rows (sum %x) vs %d (sum %x)",
		d.Source, d.Dest, d.After, d.Upto, d.SourceRows, d.SourceChecksum, d.DestRows, d.DestChecksum)
}

// Verify compares every moved row on its source shard with its copy on the
// destination. It is exact only while writes are paused (Cutover runs it
// under its fence); run on a live system it reports the rows written since
// the last CatchUp as differences. A report with Diffs comes with an error
// wrapping ErrVerify.
func (m *Migration) Verify(ctx context.Context) (*VerifyReport, error) {
	if err := m.prepare(ctx); err != nil {
		return nil, err
	}
	return m.verify(ctx, nil)
}

type agg struct {
	n   int64
	sum uint64
}

func (m *Migration) verify(ctx context.Context, txs map[string]*sql.Tx) (*VerifyReport, error) {
	rep := &VerifyReport{}
	for _, s := range m.from.Shards() {
		if !m.sends(s) {
			continue
		}
		var lo sql.NullString
		for {
			var rs *sql.Rows
			var err error
			if lo.Valid {
				rs, err = m.via(txs, s).QueryContext(ctx, m.q.selectAfter, lo.String, m.o.Batch)
			} else {
				rs, err = m.via(txs, s).QueryContext(ctx, m.q.selFirst, m.o.Batch)
			}
			var rows []row
			if err == nil {
				rows, err = scanRows(rs)
			}
			if err != nil {
				return nil, fmt.Errorf("shard: migration: verify: reading shard %s: %w", s, err)
			}
			last := len(rows) < m.o.Batch
			var hi sql.NullString
			if !last {
				hi = sql.NullString{String: rows[len(rows)-1].pk, Valid: true}
			}
			if err := m.compareRange(ctx, txs, rep, s, lo, hi, m.movingAgg(s, rows)); err != nil {
				return nil, err
			}
			if last {
				break
			}
			lo = hi
		}
	}
	return rep, rep.err()
}

// err is nil, or an error wrapping ErrVerify naming the first diffs.
func (rep *VerifyReport) err() error {
	if len(rep.Diffs) > 0 {
		var b strings.Builder
		for i, d := range rep.Diffs {
			if i == 3 {
				fmt.Fprintf(&b, "; and %d more", len(rep.Diffs)-3)
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(d.String())
		}
		return fmt.Errorf("%w: %d of %d ranges differ: %s", ErrVerify, len(rep.Diffs), rep.Ranges, b.String())
	}
	return nil
}

// movingAgg counts and sums, per destination, the rows of s that move.
func (m *Migration) movingAgg(s string, rows []row) map[string]agg {
	src := map[string]agg{}
	for _, r := range rows {
		h := m.o.Hash(r.key)
		if d := m.to.Name(h); d != s && m.from.Name(h) == s {
			a := src[d]
			a.n++
			a.sum += KeyString(r.js)
			src[d] = a
		}
	}
	return src
}

// rangeRows reads the rows of one shard with lo < pk ≤ hi (an invalid
// bound: unbounded).
func (m *Migration) rangeRows(ctx context.Context, db queryer, lo, hi sql.NullString) ([]row, error) {
	var rs *sql.Rows
	var err error
	switch {
	case lo.Valid && hi.Valid:
		rs, err = db.QueryContext(ctx, m.q.selectRange, lo.String, hi.String)
	case hi.Valid:
		rs, err = db.QueryContext(ctx, m.q.selectTo, hi.String)
	case lo.Valid:
		rs, err = db.QueryContext(ctx, m.q.selectOpen, lo.String)
	default:
		rs, err = db.QueryContext(ctx, m.q.selectAll)
	}
	if err != nil {
		return nil, err
	}
	return scanRows(rs)
}

// compareRange reads, on every other shard, the rows in (lo, hi] that came
// from s, and compares them with src.
func (m *Migration) compareRange(ctx context.Context, txs map[string]*sql.Tx, rep *VerifyReport, s string, lo, hi sql.NullString, src map[string]agg) error {
	for _, d := range m.to.Shards() {
		if d == s {
			continue
		}
		rows, err := m.rangeRows(ctx, m.via(txs, d), lo, hi)
		if err != nil {
			return fmt.Errorf("shard: migration: verify: reading shard %s: %w", d, err)
		}
		var got agg
		for _, r := range rows {
			h := m.o.Hash(r.key)
			if m.from.Name(h) == s && m.to.Name(h) == d {
				got.n++
				got.sum += KeyString(r.js)
			}
		}
		want := src[d]
		rep.Ranges++
		rep.Rows += want.n
		if got != want {
			rep.Diffs = append(rep.Diffs, RangeDiff{Source: s, Dest: d, After: lo.String, Upto: hi.String,
				SourceRows: want.n, DestRows: got.n, SourceChecksum: want.sum, DestChecksum: got.sum})
		}
	}
	return nil
}

// recheck verifies under the fence what may have changed since an
// unfenced verify: the ranges it found different, whole, and every key
// replayed since it began, one by one (source row against its copy, and no
// copy anywhere else). Together with the unfenced pass over the rest this
// proves every moved row equal while the fence is short: its cost is the
// writes made during the unfenced pass, not the size of the table.
func (m *Migration) recheck(ctx context.Context, txs map[string]*sql.Tx, diffs []RangeDiff, touched map[string]map[string]bool) (*VerifyReport, error) {
	rep := &VerifyReport{}
	done := map[[3]string]bool{}
	for _, d := range diffs {
		k := [3]string{d.Source, d.After, d.Upto}
		if done[k] {
			continue
		}
		done[k] = true
		lo := sql.NullString{String: d.After, Valid: d.After != ""}
		hi := sql.NullString{String: d.Upto, Valid: d.Upto != ""}
		rows, err := m.rangeRows(ctx, m.via(txs, d.Source), lo, hi)
		if err != nil {
			return nil, fmt.Errorf("shard: migration: verify: reading shard %s: %w", d.Source, err)
		}
		if err := m.compareRange(ctx, txs, rep, d.Source, lo, hi, m.movingAgg(d.Source, rows)); err != nil {
			return nil, err
		}
	}
	for _, s := range sortedKeys(touched) {
		pks := sortedKeys(touched[s])
		for len(pks) > 0 {
			n := min(len(pks), m.o.Batch)
			if err := m.compareKeys(ctx, txs, rep, s, pks[:n]); err != nil {
				return nil, err
			}
			pks = pks[n:]
		}
	}
	return rep, rep.err()
}

// compareKeys checks, for primary keys changed on shard s, that the row
// holding each key's current state (see placement) is, with the same
// content, on the shards the old and the next map name for its key and on
// no other, and that a deleted row is on no shard.
func (m *Migration) compareKeys(ctx context.Context, txs map[string]*sql.Tx, rep *VerifyReport, s string, pks []string) error {
	states, held, err := m.placement(ctx, txs, s, pks)
	if err != nil {
		return fmt.Errorf("shard: migration: verify: %w", err)
	}
	for _, d := range m.shardNames() {
		var want, got int64
		bad := false
		for _, pk := range pks {
			st := states[pk]
			r, has := held[d][pk]
			should := st.ok && (d == st.from || d == st.to)
			if should {
				want++
			}
			if has {
				got++
			}
			if has != should || has && r.js != st.r.js {
				bad = true
			}
		}
		rep.Ranges++
		if d != s {
			rep.Rows += want
		}
		if bad {
			rep.Diffs = append(rep.Diffs, RangeDiff{Source: s, Dest: d, After: pks[0], Upto: pks[len(pks)-1], Keys: len(pks),
				SourceRows: want, DestRows: got})
		}
	}
	return nil
}
