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
	After, Upto                  string
	SourceRows, DestRows         int64
	SourceChecksum, DestChecksum uint64
}

func (d RangeDiff) String() string {
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
			if err := m.compareRange(ctx, txs, rep, s, lo, hi, src); err != nil {
				return nil, err
			}
			if last {
				break
			}
			lo = hi
		}
	}
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
		return rep, fmt.Errorf("%w: %d of %d ranges differ: %s", ErrVerify, len(rep.Diffs), rep.Ranges, b.String())
	}
	return rep, nil
}

// compareRange reads, on every other shard, the rows in (lo, hi] that came
// from s, and compares them with src.
func (m *Migration) compareRange(ctx context.Context, txs map[string]*sql.Tx, rep *VerifyReport, s string, lo, hi sql.NullString, src map[string]agg) error {
	for _, d := range m.to.Shards() {
		if d == s {
			continue
		}
		var rs *sql.Rows
		var err error
		db := m.via(txs, d)
		switch {
		case lo.Valid && hi.Valid:
			rs, err = db.QueryContext(ctx, m.q.selectRange, lo.String, hi.String)
		case hi.Valid:
			rs, err = db.QueryContext(ctx, m.q.selectTo, hi.String)
		case lo.Valid:
			rs, err = db.QueryContext(ctx, m.q.selectOpen, lo.String)
		default:
			rs, err = db.QueryContext(ctx, m.q.selectOpen[:strings.Index(m.q.selectOpen, " WHERE ")])
		}
		var rows []row
		if err == nil {
			rows, err = scanRows(rs)
		}
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
