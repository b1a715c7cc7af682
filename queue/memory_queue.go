package queue

import (
	"strconv"
	"sync"
	"unsafe"
)

// memQueue is one queue's state, under its own lock.
type memQueue struct {
	mu     sync.Mutex
	name   string
	m      *Memory
	seq    uint64
	ready  [4]readyList // by priority, each by RunAt then enqueue order
	nready int
	sched  entryHeap         // by RunAt
	leased leaseList         // by lease deadline
	jobs   map[uint64]*entry // by ID

	unique map[string]*hold
	holds  holdHeap

	dead   deadList
	paused bool
	freed  int // room freed by settles under the lock, released by the caller

	limit  int  // the last FetchRequest's Limit and Rate, for Wait
	rate   Rate //
	tokens float64
	rateAt int64 // when tokens was last refilled; 0: never

	notify chan struct{} // closed to wake Waits; nil when nobody waits

	done    []settled // ring of recent Done settles, for idempotent re-settles
	donePos int
}

// settled is an attempt settled Done.
type settled struct{ id, lease string }

// doneRing is how many Done settles a queue remembers: settling one again
// within that many later Done settles is not an error.
const doneRing = 512

// insert stores one job (or finds it a duplicate) and reports whether it was stored.
func (q *memQueue) insert(j *Job, id uint64, now clock, res *EnqueueResult, sl *entrySlab) bool {
	if j.UniqueKey != "" {
		q.pruneHolds(now.ns)
		if h := q.unique[j.UniqueKey]; h != nil {
			sl.left--
			res.ID, res.Duplicate = h.id, true
			return false
		}
	}
	e := sl.get(j, j.UniqueKey == "" && (j.RunAt.IsZero() || j.RunAt.UnixNano() <= now.ns))
	if &e.job != j {
		e.job = *j
	}
	b := strconv.AppendUint(e.idbuf[:0], id, 10)
	// The ID's bytes live in the entry and are never written again.
	e.job.ID = unsafe.String(&e.idbuf[0], len(b))
	e.job.Queue = q.name
	e.job.Attempt = 0
	e.job.Lease = ""
	if e.job.RunAt.IsZero() {
		e.job.RunAt = now.t
	}
	q.seq++
	e.seq = q.seq
	e.at = unixNano(e.job.RunAt)
	q.jobs[id] = e
	q.place(e, now.ns)
	res.ID = e.job.ID
	if j.UniqueKey != "" {
		if until := unixNano(j.UniqueUntil); until > now.ns {
			h := &hold{key: j.UniqueKey, id: e.job.ID, until: until}
			if q.unique == nil {
				q.unique = map[string]*hold{}
			}
			q.unique[h.key] = h
			q.holds.push(h)
		}
	}
	return true
}

// jobID returns the number a Memory job ID stands for, or 0 for a string
// that is not one (IDs are canonical decimals from 1).
func jobID(s string) uint64 {
	if s == "" || s[0] == '0' {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// lookup returns the waiting or running job with this ID, or nil.
func (q *memQueue) lookup(id string) *entry {
	n := jobID(id)
	if n == 0 {
		return nil
	}
	return q.jobs[n]
}

// forget drops e from the jobs by ID.
func (q *memQueue) forget(e *entry) { delete(q.jobs, jobID(e.job.ID)) }

// pruneHolds drops unique-key holds whose window has ended.
func (q *memQueue) pruneHolds(now int64) {
	for len(q.holds) > 0 && q.holds[0].until <= now {
		h := q.holds.pop()
		if q.unique[h.key] == h {
			delete(q.unique, h.key)
		}
	}
}

// place puts a waiting entry in the ready heap of its priority when its
// RunAt has passed, else in the scheduled heap.
func (q *memQueue) place(e *entry, now int64) {
	if e.at <= now {
		e.state = stateReady
		q.ready[e.job.Priority].push(e)
		q.nready++
	} else {
		e.state = stateScheduled
		q.sched.push(e)
	}
}

func (q *memQueue) popReady() *entry {
	for p := range q.ready {
		if e := q.ready[p].pop(); e != nil {
			q.nready--
			return e
		}
	}
	panic("queue: popReady on an empty queue") // callers check nready
}

// unlink takes e out of whichever heap holds it (and out of jobs).
func (q *memQueue) unlink(e *entry) {
	switch e.state {
	case stateReady:
		q.ready[e.job.Priority].remove(e)
		q.nready--
	case stateScheduled:
		q.sched.remove(e.idx)
	case stateRunning:
		q.leased.remove(e)
	}
	e.state = 0
	q.forget(e)
}

// again stores a copy of e (taken out of its heap by the caller) to run
// again: the Job handed out under the old lease is never modified after.
func (q *memQueue) again(e *entry) *entry {
	ne := &entry{}
	*ne = *e
	ne.job.Lease = ""
	q.jobs[jobID(ne.job.ID)] = ne
	return ne
}

// kill dead-letters e, already unlinked, with reason. lastKind is Dead
// when a Settle asked for it (so settling it again is idempotent), 0
// otherwise.
func (q *memQueue) kill(e *entry, now clock, reason string, lastKind OutcomeKind) {
	d := &deadEntry{job: e.job, reason: reason, diedAt: now.t, fetches: e.fetches, lastKind: lastKind}
	d.job.Lease = ""
	if lastKind != 0 {
		d.lastFetch = e.fetches
		if reason != "" {
			d.job.LastError = reason
		}
	}
	q.dead.add(d, now.ns, q.m.maxAge, q.m.maxCount)
}

// advance brings the queue to now: due scheduled jobs become ready, jobs
// whose lease ran out become ready again (or dead at MaxAttempts), and old
// dead letters go. It returns the room freed.
func (q *memQueue) advance(now clock) (freed int) {
	before := q.nready
	for len(q.sched) > 0 && q.sched[0].at <= now.ns {
		e := q.sched.pop()
		e.state = stateReady
		q.ready[e.job.Priority].push(e)
		q.nready++
	}
	for {
		e := q.leased.first()
		if e == nil || e.at > now.ns {
			break
		}
		q.leased.remove(e)
		e.state = 0
		if e.job.Attempt >= e.job.MaxAttempts {
			q.forget(e)
			q.kill(e, now, "lease expired on attempt "+strconv.Itoa(e.job.Attempt), 0)
			freed++
			continue
		}
		ne := q.again(e)
		ne.at = unixNano(ne.job.RunAt)
		q.place(ne, now.ns)
	}
	q.dead.trim(now.ns, q.m.maxAge, q.m.maxCount)
	q.pruneHolds(now.ns)
	if q.nready > before || freed > 0 && q.limit > 0 {
		q.wake()
	}
	return freed
}

// settle applies one outcome under the queue's lock.
func (q *memQueue) settle(o *Outcome, now clock) error {
	e := q.lookup(o.Job.ID)
	if e == nil || e.state != stateRunning || e.job.Lease != o.Job.Lease {
		if q.settledBefore(e, o) {
			return nil
		}
		return ErrLeaseLost
	}
	q.leased.remove(e)
	e.state = 0
	switch o.Kind {
	case Done:
		q.forget(e)
		if q.done == nil {
			q.done = make([]settled, doneRing)
		}
		q.done[q.donePos] = settled{e.job.ID, e.job.Lease}
		q.donePos = (q.donePos + 1) % doneRing
		q.freed++
		if q.limit > 0 {
			q.wake()
		}
		return nil
	case Dead:
		q.forget(e)
		q.kill(e, now, o.Err, Dead)
		q.freed++
		if q.limit > 0 {
			q.wake()
		}
		return nil
	}
	ne := q.again(e)
	ne.lastFetch, ne.lastKind = e.fetches, o.Kind
	switch o.Kind {
	case Retry:
		ne.job.LastError = o.Err
		ne.job.RunAt = o.At
	case Snooze:
		ne.job.Attempt--
		ne.job.RunAt = o.At
	case Release:
		ne.job.Attempt--
	}
	if ne.job.RunAt.IsZero() {
		ne.job.RunAt = now.t
	}
	ne.at = unixNano(ne.job.RunAt)
	q.place(ne, now.ns)
	q.wake()
	return nil
}

// settledBefore reports whether o repeats the outcome that already settled
// its attempt (same lease, same kind).
func (q *memQueue) settledBefore(e *entry, o *Outcome) bool {
	id, lease := o.Job.ID, o.Job.Lease
	if lease == "" {
		return false
	}
	switch {
	case e != nil:
		return isLease(lease, e.lastFetch) && e.lastKind == o.Kind
	case o.Kind == Done:
		for _, s := range q.done {
			if s.id == id && s.lease == lease {
				return true
			}
		}
	case o.Kind == Dead:
		d := q.dead.byID[id]
		return d != nil && isLease(lease, d.lastFetch) && d.lastKind == Dead
	}
	return false
}

// leaseToken is the lease of a job's n-th fetch: n in decimal (no
// allocation below 100). Job IDs are never reused, so ID and token together
// name one attempt.
func leaseToken(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// isLease reports whether lease is the token of fetch n (n > 0).
func isLease(lease string, n uint32) bool {
	var b [10]byte
	return n > 0 && string(strconv.AppendUint(b[:0], uint64(n), 10)) == lease
}

// fetchable reports whether a Fetch with the last Limit and Rate seen would
// return a job now.
func (q *memQueue) fetchable(now int64) bool {
	if q.paused || q.nready == 0 || q.limit > 0 && q.leased.n >= q.limit {
		return false
	}
	if q.rate.N > 0 {
		q.refill(now)
		return q.tokens >= 1
	}
	return true
}

// nextDue returns the earliest time at which the queue changes on its own:
// a scheduled job's RunAt, a lease deadline, or the next rate token.
func (q *memQueue) nextDue(now int64) (int64, bool) {
	var due int64
	ok := false
	earlier := func(t int64) {
		if !ok || t < due {
			due, ok = t, true
		}
	}
	if len(q.sched) > 0 {
		earlier(q.sched[0].at)
	}
	if e := q.leased.first(); e != nil {
		earlier(e.at)
	}
	if q.rate.N > 0 && q.nready > 0 && !q.paused && q.tokens < 1 {
		per := float64(q.rate.Per) / float64(q.rate.N)
		earlier(now + int64((1-q.tokens)*per) + 1)
	}
	return due, ok
}

// refill adds the tokens earned since the last refill to the queue's bucket.
// A bucket starts full.
func (q *memQueue) refill(now int64) {
	r := q.rate
	burst := float64(r.Burst)
	if r.Burst == 0 {
		burst = float64(r.N)
	}
	if q.rateAt == 0 {
		q.tokens, q.rateAt = burst, now
		return
	}
	if el := now - q.rateAt; el > 0 {
		q.tokens += float64(el) * float64(r.N) / float64(r.Per)
		q.rateAt = now
	}
	q.tokens = min(q.tokens, burst)
}

// wake wakes every Wait on the queue.
func (q *memQueue) wake() {
	if q.notify != nil {
		close(q.notify)
		q.notify = nil
	}
}
