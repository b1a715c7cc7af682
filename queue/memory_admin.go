package queue

import (
	"context"
	"fmt"
)

// Cancel implements Backend.
func (m *Memory) Cancel(ctx context.Context, queue, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validQueue("Cancel", queue); err != nil {
		return err
	}
	q := m.queue(queue, false)
	if q == nil {
		return fmt.Errorf("%w: queue %q, ID %q", ErrNotFound, queue, id)
	}
	now := m.clock()
	q.mu.Lock()
	freed := q.advance(now)
	e := q.lookup(id)
	if e != nil {
		q.unlink(e)
		q.kill(e, now, "cancelled", 0)
		freed++
		q.wake() // a slot under a Limit is free
	}
	q.mu.Unlock()
	m.release(freed)
	if e == nil {
		return fmt.Errorf("%w: queue %q, ID %q", ErrNotFound, queue, id)
	}
	return nil
}

// Pause implements Backend.
func (m *Memory) Pause(ctx context.Context, queue string, paused bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validQueue("Pause", queue); err != nil {
		return err
	}
	q := m.queue(queue, true)
	q.mu.Lock()
	q.paused = paused
	if !paused {
		q.wake()
	}
	q.mu.Unlock()
	return nil
}

// Stats implements Backend.
func (m *Memory) Stats(ctx context.Context, queue string) (BackendStats, error) {
	if err := ctx.Err(); err != nil {
		return BackendStats{}, err
	}
	if err := validQueue("Stats", queue); err != nil {
		return BackendStats{}, err
	}
	q := m.queue(queue, false)
	if q == nil {
		return BackendStats{}, nil
	}
	now := m.clock()
	q.mu.Lock()
	freed := q.advance(now)
	s := BackendStats{
		Ready:     int64(q.nready),
		Scheduled: int64(len(q.sched)),
		Running:   int64(q.leased.n),
		Dead:      int64(q.dead.len()),
		Paused:    q.paused,
	}
	var oldest *entry
	for p := range q.ready {
		if e := q.ready[p].first(); e != nil && (oldest == nil || e.at < oldest.at) {
			oldest = e
		}
	}
	if oldest != nil {
		s.Oldest = oldest.job.RunAt
	}
	q.mu.Unlock()
	m.release(freed)
	return s, nil
}
