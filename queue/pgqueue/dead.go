package pgqueue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// Dead lists queue's dead letters, newest first, a page at a time.
func (b *Backend) Dead(ctx context.Context, q string, page queue.Page) ([]queue.DeadJob, error) {
	if err := checkQueue(q); err != nil {
		return nil, err
	}
	if page.Limit < 0 {
		return nil, fmt.Errorf("%w: Page.Limit %d: must be ≥ 0", ErrInvalidOptions, page.Limit)
	}
	limit := page.Limit
	if limit == 0 {
		limit = 100
	}
	first := page.After == ""
	var at time.Time
	var after int64
	if !first {
		var err error
		if at, after, err = parseCursor(page.After); err != nil {
			return nil, err
		}
	}
	rows, err := b.pool.Query(ctx, b.sql.dead, q, first, at, after, limit)
	if err != nil {
		return nil, wrapErr(ctx, "dead", err)
	}
	defer rows.Close()
	var out []queue.DeadJob
	for rows.Next() {
		var r rawJob
		var died time.Time
		var reason string
		if err := rows.Scan(append(r.dest(), &died, &reason)...); err != nil {
			return nil, wrapErr(ctx, "dead", err)
		}
		j, jerr := r.job()
		if jerr != nil {
			// A malformed dead letter is still listed, with what could be read.
			j = &queue.Job{ID: strconv.FormatInt(r.id, 10), Queue: r.queue, Kind: r.kind, Args: r.args,
				Priority: int(r.priority), Attempt: int(r.attempt), MaxAttempts: int(r.maxAttempts)}
			if r.lastError != nil {
				j.LastError = *r.lastError
			}
		}
		j.Lease = ""
		out = append(out, queue.DeadJob{Job: *j, Reason: reason, DiedAt: died, Cursor: formatCursor(died, r.id)})
	}
	if err := rows.Err(); err != nil {
		return nil, wrapErr(ctx, "dead", err)
	}
	return out, nil
}

// formatCursor encodes a dead letter's place in the listing: its death
// time (µs, PostgreSQL's precision) and ID.
func formatCursor(died time.Time, id int64) string {
	return strconv.FormatInt(died.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)
}

var errCursor = errors.New("not a cursor of this backend")

// parseCursor decodes a Page.After; a cursor it did not make is an error
// wrapping ErrInvalidOptions.
func parseCursor(c string) (time.Time, int64, error) {
	us, id, ok := strings.Cut(c, ".")
	t, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 || len(c) > 41 {
		return time.Time{}, 0, fmt.Errorf("%w: Page.After %q: %v", ErrInvalidOptions, c, errCursor)
	}
	return time.UnixMicro(t), n, nil
}

func parseIDs(ids []string) []int64 {
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if n, ok := parseID(id); ok {
			out = append(out, n)
		}
	}
	return out
}

// RetryDead moves dead letters of queue back to ready (Attempt 0, RunAt now
// on the server); all of them when ids is nil.
func (b *Backend) RetryDead(ctx context.Context, q string, ids []string) (int, error) {
	if err := checkQueue(q); err != nil {
		return 0, err
	}
	var err error
	var n int64
	if ids == nil {
		tag, e := b.pool.Exec(ctx, b.sql.retryDeadAll, q)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := b.pool.Exec(ctx, b.sql.retryDead, q, parseIDs(ids))
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return 0, wrapErr(ctx, "retry dead", err)
	}
	if n > 0 {
		b.notifyQueues(ctx, b.pool, []string{q})
	}
	return int(n), nil
}

// PurgeDead deletes dead letters of queue; all of them when ids is nil.
func (b *Backend) PurgeDead(ctx context.Context, q string, ids []string) (int, error) {
	if err := checkQueue(q); err != nil {
		return 0, err
	}
	var err error
	var n int64
	if ids == nil {
		tag, e := b.pool.Exec(ctx, b.sql.purgeDeadAll, q)
		n, err = tag.RowsAffected(), e
	} else {
		tag, e := b.pool.Exec(ctx, b.sql.purgeDead, q, parseIDs(ids))
		n, err = tag.RowsAffected(), e
	}
	if err != nil {
		return 0, wrapErr(ctx, "purge dead", err)
	}
	return int(n), nil
}

// trimEvery bounds how often the calls that dead-letter jobs or take unique
// keys also trim dead letters and ended unique windows.
const trimEvery = time.Minute

// maybeTrim runs a retention pass for queue (and the ended unique keys) at
// most once per trimEvery per Backend; its errors are left to the next pass.
func (b *Backend) maybeTrim(ctx context.Context, q string) {
	now := time.Now().UnixNano()
	last := b.lastTrim.Load()
	if now-last < int64(trimEvery) || !b.lastTrim.CompareAndSwap(last, now) {
		return
	}
	var qs []string
	if q != "" {
		qs = []string{q}
	}
	_ = b.trim(ctx, qs)
}

// Maintain trims every queue's dead letters to Options.Retention and
// deletes unique keys whose window has ended, in batches of 1,000 rows.
// The backend also does it as it goes (at most once a minute, from the
// calls that dead-letter jobs or take unique keys); call Maintain from a
// periodic job to bound the tables of queues that have gone quiet.
func (b *Backend) Maintain(ctx context.Context) error {
	rows, err := b.pool.Query(ctx, b.sql.jobs)
	if err != nil {
		return wrapErr(ctx, "maintain", err)
	}
	var qs []string
	for rows.Next() {
		var q string
		if err := rows.Scan(&q); err != nil {
			rows.Close()
			return wrapErr(ctx, "maintain", err)
		}
		qs = append(qs, q)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrapErr(ctx, "maintain", err)
	}
	return b.trim(ctx, qs)
}

func (b *Backend) trim(ctx context.Context, qs []string) error {
	b.trimMu.Lock()
	defer b.trimMu.Unlock()
	r := b.opts.Retention
	loop := func(sql string, args ...any) error {
		for {
			tag, err := b.pool.Exec(ctx, sql, args...)
			if err != nil {
				return wrapErr(ctx, "trim", err)
			}
			if tag.RowsAffected() < 1000 {
				return nil
			}
		}
	}
	for _, q := range qs {
		if r.MaxAge > 0 {
			if err := loop(b.sql.trimAge, q, r.MaxAge.Milliseconds()); err != nil {
				return err
			}
		}
		if r.MaxCount > 0 {
			if err := loop(b.sql.trimCount, q, r.MaxCount); err != nil {
				return err
			}
		}
	}
	// A key whose window ended an hour ago is free for anyone (the hour
	// covers producers' clock skew: the window is on their clocks).
	return loop(b.sql.trimUniq, time.Now().Add(-time.Hour))
}
