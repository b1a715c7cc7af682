package queue

import (
	"context"
	"fmt"
	"time"
)

func validFetch(req FetchRequest) error {
	switch {
	case req.Queue == "":
		return validQueue("FetchRequest.Queue", req.Queue)
	case req.Max < 1:
		return fmt.Errorf("%w: FetchRequest.Max %d: must be ≥ 1", ErrInvalidOptions, req.Max)
	case req.Lease <= 0:
		return fmt.Errorf("%w: FetchRequest.Lease %v: must be > 0", ErrInvalidOptions, req.Lease)
	case req.Limit < 0:
		return fmt.Errorf("%w: FetchRequest.Limit %d: must be ≥ 0", ErrInvalidOptions, req.Limit)
	}
	return validRate(req.Rate)
}

func validRate(r Rate) error {
	switch {
	case r.N < 0:
		return fmt.Errorf("%w: FetchRequest.Rate.N %d: must be ≥ 0", ErrInvalidOptions, r.N)
	case r.N > 0 && r.Per <= 0:
		return fmt.Errorf("%w: FetchRequest.Rate.Per %v: must be > 0 with Rate.N > 0", ErrInvalidOptions, r.Per)
	case r.Burst < 0:
		return fmt.Errorf("%w: FetchRequest.Rate.Burst %d: must be ≥ 0", ErrInvalidOptions, r.Burst)
	}
	return nil
}

// Fetch implements Backend. Limit and Rate hold across every fetcher of this
// Memory; the token bucket of a queue starts full (Burst starts at once).
func (m *Memory) Fetch(ctx context.Context, req FetchRequest) ([]*Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validFetch(req); err != nil {
		return nil, err
	}
	q := m.queue(req.Queue, false)
	if q == nil {
		return nil, nil
	}
	now := m.clock()
	q.mu.Lock()
	q.limit, q.rate = req.Limit, req.Rate
	freed := q.advance(now)
	n := min(req.Max, q.nready)
	if q.paused {
		n = 0
	}
	if req.Limit > 0 {
		n = min(n, max(req.Limit-q.leased.n, 0))
	}
	if req.Rate.N > 0 && n > 0 {
		q.refill(now.ns)
		if q.tokens < float64(n) { // compare as floats: int(tokens) of a huge bucket is undefined
			n = int(q.tokens)
		}
		q.tokens -= float64(n)
	}
	var out []*Job
	if n > 0 {
		out = make([]*Job, n)
		deadline := addNs(now.ns, req.Lease)
		for i := range out {
			e := q.popReady()
			e.job.Attempt++
			e.fetches++
			e.job.Lease = leaseToken(e.fetches)
			e.state = stateRunning
			e.at = deadline
			q.leased.push(e)
			out[i] = &e.job
		}
	}
	q.mu.Unlock()
	m.release(freed)
	return out, nil
}

// Wait implements Backend. It wakes at once on an enqueue, a release or a
// retry into queue, on a settle that frees a slot under a Limit, on Resume,
// and when the earliest delayed job, lease deadline or rate token is due.
// A max ≤ 0 returns at once.
func (m *Memory) Wait(ctx context.Context, queue string, max time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validQueue("Wait", queue); err != nil {
		return err
	}
	if max <= 0 {
		return nil
	}
	q := m.queue(queue, true)
	now := m.clock()
	q.mu.Lock()
	before := q.nready
	freed := q.advance(now)
	if q.nready > before || q.fetchable(now.ns) {
		q.mu.Unlock()
		m.release(freed)
		return nil
	}
	d := max
	if due, ok := q.nextDue(now.ns); ok && time.Duration(due-now.ns) < d {
		d = time.Duration(due - now.ns)
	}
	if q.notify == nil {
		q.notify = make(chan struct{})
	}
	ch := q.notify
	q.mu.Unlock()
	m.release(freed)
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Extend implements Backend. A lease that has run out is lost, even when no
// Fetch has taken the job again yet.
func (m *Memory) Extend(ctx context.Context, jobs []*Job, d time.Duration) ([]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if d <= 0 {
		return nil, fmt.Errorf("%w: Extend: lease %v: must be > 0", ErrInvalidOptions, d)
	}
	for i, j := range jobs {
		if j == nil {
			return nil, fmt.Errorf("%w: Extend: jobs[%d]: nil job", ErrInvalidOptions, i)
		}
	}
	out := make([]bool, len(jobs))
	now := m.clock()
	var g group
	for i, j := range jobs {
		q := g.lock(m, j.Queue, now)
		if q == nil {
			continue
		}
		if e := q.lookup(j.ID); e != nil && e.state == stateRunning && e.job.Lease == j.Lease {
			q.leased.extend(e, addNs(now.ns, d))
			out[i] = true
		}
	}
	g.unlock()
	return out, nil
}

// Settle implements Backend. An outcome with a nil Job or an unknown Kind
// gets an error wrapping ErrInvalidOptions and changes nothing.
func (m *Memory) Settle(ctx context.Context, outcomes []Outcome) ([]error, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	errs := make([]error, len(outcomes))
	now := m.clock()
	var g group
	for i := range outcomes {
		o := &outcomes[i]
		if o.Job == nil {
			errs[i] = fmt.Errorf("%w: outcomes[%d]: nil job", ErrInvalidOptions, i)
			continue
		}
		if o.Kind < Done || o.Kind > Release {
			errs[i] = fmt.Errorf("%w: outcomes[%d].Kind %d: unknown outcome", ErrInvalidOptions, i, o.Kind)
			continue
		}
		q := g.lock(m, o.Job.Queue, now)
		if q == nil {
			errs[i] = ErrLeaseLost
			continue
		}
		errs[i] = q.settle(o, now)
	}
	g.unlock()
	return errs, nil
}

// group holds the lock of one queue at a time over a batch whose items may
// name different queues, switching locks only where the queue changes, and
// sums the room the batch freed.
type group struct {
	q     *memQueue
	freed int
	m     *Memory
}

func (g *group) lock(m *Memory, name string, now clock) *memQueue {
	if name == "" {
		name = "default"
	}
	if g.q != nil && g.q.name == name {
		return g.q
	}
	g.unlock()
	g.m = m
	g.q = m.queue(name, false)
	if g.q != nil {
		g.q.mu.Lock()
		g.freed += g.q.advance(now)
	}
	return g.q
}

func (g *group) unlock() {
	if g.q != nil {
		g.freed += g.q.freed
		g.q.freed = 0
		g.q.mu.Unlock()
		g.q = nil
	}
	if g.m != nil {
		g.m.release(g.freed)
		g.freed = 0
	}
}
