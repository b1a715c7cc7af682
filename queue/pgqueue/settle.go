package pgqueue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ladder-go/ladder/queue"
)

// Extend renews running leases to d from now on the server's clock, in one
// statement; a job whose lease token moved on (fetched again, cancelled) or
// that no longer runs reports false.
func (b *Backend) Extend(ctx context.Context, jobs []*queue.Job, d time.Duration) ([]bool, error) {
	if d <= 0 {
		return nil, fmt.Errorf("%w: Extend duration %v: must be > 0", ErrInvalidOptions, d)
	}
	out := make([]bool, len(jobs))
	ids := make([]int64, 0, len(jobs))
	leases := make([]int64, 0, len(jobs))
	for i, j := range jobs {
		if j == nil {
			return nil, fmt.Errorf("%w: job %d is nil", ErrInvalidOptions, i)
		}
		id, ok1 := parseID(j.ID)
		l, ok2 := parseLease(j.Lease)
		if ok1 && ok2 {
			ids, leases = append(ids, id), append(leases, l)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := b.pool.Query(ctx, b.sql.extend, ids, leases, max(d.Milliseconds(), 1))
	if err != nil {
		return nil, wrapErr(ctx, "extend", err)
	}
	type idLease struct{ id, lease int64 }
	kept := map[idLease]bool{}
	for rows.Next() {
		var k idLease
		if err := rows.Scan(&k.id, &k.lease); err != nil {
			rows.Close()
			return nil, wrapErr(ctx, "extend", err)
		}
		kept[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrapErr(ctx, "extend", err)
	}
	for i, j := range jobs {
		id, _ := parseID(j.ID)
		l, _ := parseLease(j.Lease)
		out[i] = kept[idLease{id, l}]
	}
	return out, nil
}

// Settle applies outcomes in one round trip: one DELETE for the Done ones
// and one UPDATE … FROM unnest for the others, in one implicit transaction.
// An outcome whose lease token is no longer current reports
// queue.ErrLeaseLost, except a repeat of the kind that the same lease
// already applied (checked only for the outcomes that missed): a Done whose
// row is gone is taken as done (CompleteTx, or an earlier Done).
func (b *Backend) Settle(ctx context.Context, outcomes []queue.Outcome) ([]error, error) {
	errs := make([]error, len(outcomes))
	var (
		doneIDs, doneLeases []int64
		ids, leases         []int64
		kinds               []int16
		ats                 []pgtype.Timestamptz
		msgs                []string
		wake                []string
		applied             = map[int64]bool{}
	)
	for i, o := range outcomes {
		if o.Job == nil {
			return nil, fmt.Errorf("%w: outcome %d: Job is nil", ErrInvalidOptions, i)
		}
		if o.Kind < queue.Done || o.Kind > queue.Release {
			return nil, fmt.Errorf("%w: outcome %d: Kind %d", ErrInvalidOptions, i, o.Kind)
		}
		id, ok1 := parseID(o.Job.ID)
		l, ok2 := parseLease(o.Job.Lease)
		if !ok1 || !ok2 {
			errs[i] = fmt.Errorf("pgqueue: job %q: %w", o.Job.ID, queue.ErrLeaseLost)
			continue
		}
		if o.Kind == queue.Done {
			doneIDs, doneLeases = append(doneIDs, id), append(doneLeases, l)
			continue
		}
		at := o.At
		if at.IsZero() {
			at = time.Now()
		}
		ids, leases = append(ids, id), append(leases, l)
		kinds = append(kinds, int16(o.Kind))
		ats = append(ats, pgtype.Timestamptz{Time: at, Valid: true})
		msgs = append(msgs, pgText(o.Err))
		if (o.Kind == queue.Release || !at.After(time.Now())) && o.Kind != queue.Dead && !slices.Contains(wake, o.Job.Queue) {
			wake = append(wake, o.Job.Queue)
		}
	}
	batch := &pgx.Batch{}
	if len(doneIDs) > 0 {
		batch.Queue(b.sql.settleDone, doneIDs, doneLeases)
	}
	if len(ids) > 0 {
		batch.Queue(b.sql.settleOther, ids, leases, kinds, ats, msgs)
	}
	if batch.Len() == 0 {
		return errs, nil
	}
	if len(wake) > 0 {
		batch.Queue(b.sql.notify, b.channel, wake)
	}
	br := b.pool.SendBatch(ctx, batch)
	var err error
	for n := 0; n < 2 && err == nil; n++ {
		if (n == 0 && len(doneIDs) == 0) || (n == 1 && len(ids) == 0) {
			continue
		}
		var rows pgx.Rows
		if rows, err = br.Query(); err != nil {
			break
		}
		for rows.Next() {
			var id int64
			if err = rows.Scan(&id); err != nil {
				break
			}
			applied[id] = true
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, wrapErr(ctx, "settle", err)
	}
	var missed []int64
	for i, o := range outcomes {
		if errs[i] != nil {
			continue
		}
		if id, _ := parseID(o.Job.ID); !applied[id] {
			missed = append(missed, id)
		}
	}
	dead := slices.ContainsFunc(kinds, func(k int16) bool { return k == int16(queue.Dead) })
	if len(missed) > 0 {
		if err := b.settledAlready(ctx, outcomes, errs, applied, missed); err != nil {
			return nil, err
		}
	}
	if dead {
		seen := map[string]bool{}
		for _, o := range outcomes {
			if o.Kind == queue.Dead && !seen[o.Job.Queue] {
				seen[o.Job.Queue] = true
				b.maybeTrim(ctx, o.Job.Queue)
			}
		}
	}
	return errs, nil
}

// settledAlready fills errs for the outcomes that changed nothing: nil when
// the same lease already applied the same kind, else ErrLeaseLost.
func (b *Backend) settledAlready(ctx context.Context, outcomes []queue.Outcome, errs []error, applied map[int64]bool, missed []int64) error {
	type row struct {
		lease   int64
		settled int16
	}
	found := map[int64]row{}
	rows, err := b.pool.Query(ctx, b.sql.settledState, missed)
	if err != nil {
		return wrapErr(ctx, "settle", err)
	}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.lease, &r.settled); err != nil {
			rows.Close()
			return wrapErr(ctx, "settle", err)
		}
		found[id] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrapErr(ctx, "settle", err)
	}
	for i, o := range outcomes {
		if errs[i] != nil {
			continue
		}
		id, _ := parseID(o.Job.ID)
		if applied[id] {
			continue
		}
		l, _ := parseLease(o.Job.Lease)
		r, ok := found[id]
		switch {
		case !ok && o.Kind == queue.Done:
			// Gone: completed (by CompleteTx or an earlier Done).
		case ok && r.lease == l && r.settled == int16(o.Kind):
			// The same lease already applied the same kind.
		default:
			errs[i] = fmt.Errorf("pgqueue: job %s: %w", o.Job.ID, queue.ErrLeaseLost)
		}
	}
	return nil
}

// pgText makes an error message storable as PostgreSQL text, which refuses
// NUL bytes and invalid UTF-8 (one such message would fail a whole batch):
// both become U+FFFD.
func pgText(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
