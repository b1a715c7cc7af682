package queue

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// deadEntry is one dead letter of a Memory queue.
type deadEntry struct {
	job     Job
	reason  string
	diedAt  time.Time
	diedNs  int64
	seq     uint64 // order of death within the queue; the listing cursor
	fetches uint32 // carried over when the job is retried, so old leases stay stale

	lastFetch uint32      // the fetch settled Dead, for an idempotent re-settle
	lastKind  OutcomeKind // Dead when settled Dead; 0 when cancelled or expired
}

// deadList is a queue's dead letters in order of death, oldest first.
type deadList struct {
	list []*deadEntry
	byID map[string]*deadEntry
	seq  uint64
}

func (d *deadList) len() int { return len(d.list) }

func (d *deadList) add(e *deadEntry, now, maxAge int64, maxCount int) {
	if d.byID == nil {
		d.byID = map[string]*deadEntry{}
	}
	d.seq++
	e.seq = d.seq
	e.diedNs = unixNano(e.diedAt)
	d.list = append(d.list, e)
	d.byID[e.job.ID] = e
	d.trim(now, maxAge, maxCount)
}

// trim drops the oldest dead letters beyond the retention bounds.
func (d *deadList) trim(now, maxAge int64, maxCount int) {
	n := 0
	for n < len(d.list) && (maxCount >= 0 && len(d.list)-n > maxCount ||
		maxAge >= 0 && d.list[n].diedNs < now-maxAge) {
		delete(d.byID, d.list[n].job.ID)
		d.list[n] = nil
		n++
	}
	if n > 0 {
		d.list = d.list[n:]
	}
}

// remove takes out the dead letters with the given IDs (all when ids is
// nil), returning them oldest first.
func (d *deadList) remove(ids []string) []*deadEntry {
	var out []*deadEntry
	if ids == nil {
		out = d.list
		d.list = nil
		clear(d.byID)
		return out
	}
	drop := make(map[string]bool, len(ids))
	for _, id := range ids {
		if d.byID[id] != nil {
			drop[id] = true
		}
	}
	if len(drop) == 0 {
		return nil
	}
	kept := d.list[:0]
	for _, e := range d.list {
		if drop[e.job.ID] {
			out = append(out, e)
			delete(d.byID, e.job.ID)
		} else {
			kept = append(kept, e)
		}
	}
	clear(d.list[len(kept):])
	d.list = kept
	return out
}

// page lists up to limit dead letters older than the one at cursor
// (from the newest when cursor is empty), newest first.
func (d *deadList) page(after string, limit int) ([]DeadJob, error) {
	end := len(d.list)
	if after != "" {
		seq, err := parseDeadCursor(after)
		if err != nil {
			return nil, err
		}
		end = sort.Search(len(d.list), func(i int) bool { return d.list[i].seq >= seq })
	}
	out := make([]DeadJob, 0, min(limit, end))
	for i := end - 1; i >= 0 && len(out) < limit; i-- {
		e := d.list[i]
		out = append(out, DeadJob{Job: e.job, Reason: e.reason, DiedAt: e.diedAt, Cursor: formatDeadCursor(e.seq)})
	}
	return out, nil
}

// A Memory's dead-letter cursor is "m" and the dead letter's sequence
// number in decimal.
func formatDeadCursor(seq uint64) string { return "m" + strconv.FormatUint(seq, 10) }

func parseDeadCursor(s string) (uint64, error) {
	if len(s) < 2 || len(s) > 21 || s[0] != 'm' || s[1] == '+' || s[1] == '-' {
		return 0, fmt.Errorf("%w: Page.After %q: not a dead-letter cursor of this backend", ErrInvalidOptions, s)
	}
	seq, err := strconv.ParseUint(s[1:], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: Page.After %q: not a dead-letter cursor of this backend", ErrInvalidOptions, s)
	}
	return seq, nil
}

func validPage(p Page) error {
	if p.Limit < 0 {
		return fmt.Errorf("%w: Page.Limit %d: must be ≥ 0", ErrInvalidOptions, p.Limit)
	}
	return nil
}

// Dead implements Backend. A cursor of another backend, or a hand-made one,
// is an error wrapping ErrInvalidOptions.
func (m *Memory) Dead(ctx context.Context, queue string, page Page) ([]DeadJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validQueue("Dead", queue); err != nil {
		return nil, err
	}
	if err := validPage(page); err != nil {
		return nil, err
	}
	if page.After != "" {
		if _, err := parseDeadCursor(page.After); err != nil {
			return nil, err
		}
	}
	limit := page.Limit
	if limit == 0 {
		limit = 100
	}
	q := m.queue(queue, false)
	if q == nil {
		return []DeadJob{}, nil
	}
	now := m.clock()
	q.mu.Lock()
	freed := q.advance(now)
	out, err := q.dead.page(page.After, limit)
	q.mu.Unlock()
	m.release(freed)
	return out, err
}

// RetryDead implements Backend. The jobs it moves count against MaxJobs but
// are moved even past it.
func (m *Memory) RetryDead(ctx context.Context, queue string, ids []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := validQueue("RetryDead", queue); err != nil {
		return 0, err
	}
	q := m.queue(queue, false)
	if q == nil {
		return 0, nil
	}
	now := m.clock()
	q.mu.Lock()
	freed := q.advance(now)
	moved := q.dead.remove(ids)
	for _, d := range moved {
		e := &entry{job: d.job, fetches: d.fetches}
		e.job.Attempt = 0
		e.job.RunAt = now.t
		q.seq++
		e.seq = q.seq
		e.at = now.ns
		q.jobs[jobID(e.job.ID)] = e
		q.place(e, now.ns)
	}
	m.live.Add(int64(len(moved)))
	if len(moved) > 0 {
		q.wake()
	}
	q.mu.Unlock()
	m.release(freed)
	return len(moved), nil
}

// PurgeDead implements Backend.
func (m *Memory) PurgeDead(ctx context.Context, queue string, ids []string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := validQueue("PurgeDead", queue); err != nil {
		return 0, err
	}
	q := m.queue(queue, false)
	if q == nil {
		return 0, nil
	}
	now := m.clock()
	q.mu.Lock()
	freed := q.advance(now)
	n := len(q.dead.remove(ids))
	q.mu.Unlock()
	m.release(freed)
	return n, nil
}
