package queue

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// DefaultMaxJobs is the number of jobs a Memory holds when MemoryOptions.MaxJobs is 0.
const DefaultMaxJobs = 1_000_000

// FullPolicy says what Memory.Enqueue does when the Memory holds MaxJobs jobs.
type FullPolicy uint8

const (
	// FullReject fails the Enqueue with an error wrapping ErrQueueFull (the
	// default): the producer sees backpressure at once and decides.
	FullReject FullPolicy = iota
	// FullBlock makes Enqueue wait until the whole batch fits, or until its
	// ctx is done (then it returns ctx.Err() and stores nothing).
	FullBlock
)

func (p FullPolicy) String() string {
	switch p {
	case FullReject:
		return "FullReject"
	case FullBlock:
		return "FullBlock"
	}
	return "FullPolicy(" + strconv.Itoa(int(p)) + ")"
}

// MemoryOptions configure a Memory. The zero value is a bounded Memory of
// DefaultMaxJobs jobs that rejects enqueues when full.
type MemoryOptions struct {
	// MaxJobs bounds the jobs stored at once across all queues: ready,
	// scheduled and running (dead letters are bounded by Retention instead).
	// 0 means DefaultMaxJobs; negative is an error.
	MaxJobs int
	// Full is what Enqueue does when a batch does not fit: FullReject (the
	// zero value) or FullBlock.
	Full FullPolicy
	// Retention bounds the dead letters kept per queue (see Retention).
	Retention Retention
	// Now is the clock for RunAt, lease deadlines, unique windows, rates and
	// dead-letter ages; nil means time.Now. queuetest.Clock plugs in here.
	Now func() time.Time
}

// Validate reports the first invalid field, wrapping ErrInvalidOptions.
func (o MemoryOptions) Validate() error {
	switch {
	case o.MaxJobs < 0:
		return fmt.Errorf("%w: MaxJobs %d: must be ≥ 0", ErrInvalidOptions, o.MaxJobs)
	case o.Full > FullBlock:
		return fmt.Errorf("%w: Full %v: must be FullReject or FullBlock", ErrInvalidOptions, o.Full)
	}
	return nil
}

// Memory is the in-process Backend: the embedded default for one process,
// and for tests. Jobs live in this process only: they do not survive a
// restart and are not shared with other processes (use queue/redisqueue or
// queue/pgqueue for that). Every Client and Worker of the process that
// shares one *Memory sees one store, so its limits, rates, pauses and unique
// keys hold across all of them.
//
// Memory starts no goroutine and needs no Close: a Wait computes its own
// timer from the earliest due job or lease deadline. Each queue has its own
// lock, taken once per batch call.
//
// Enqueue stores the jobs of one call all or none, even when they span
// queues. It keeps each Job's Args and Meta by reference: the caller must not
// modify them after the call. The Jobs Fetch returns are the stored ones:
// read them, do not modify them (a Worker does not); Memory never modifies a
// Job it has handed out, since a job that runs again is stored afresh.
//
// RetryDead moves dead letters back even when that takes the Memory past
// MaxJobs (it is an operator's decision); only Enqueue is bounded.
type Memory struct {
	now      func() time.Time
	maxJobs  int64
	block    bool
	maxAge   int64 // ns; < 0: no age limit
	maxCount int   // < 0: no count limit

	live atomic.Int64  // jobs stored (not dead letters), for MaxJobs
	ids  atomic.Uint64 // last job ID handed out

	queues atomic.Pointer[map[string]*memQueue] // copied on write; read lock-free

	mu          sync.Mutex    // guards adding queues and room
	room        chan struct{} // closed when jobs leave, for FullBlock enqueuers
	roomWaiters atomic.Int32
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty Memory, or an error wrapping ErrInvalidOptions.
func NewMemory(opts MemoryOptions) (*Memory, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	m := &Memory{now: opts.Now, maxJobs: int64(opts.MaxJobs), block: opts.Full == FullBlock}
	if m.now == nil {
		m.now = time.Now
	}
	if m.maxJobs == 0 {
		m.maxJobs = DefaultMaxJobs
	}
	switch a := opts.Retention.MaxAge; {
	case a < 0:
		m.maxAge = -1
	case a == 0:
		m.maxAge = int64(14 * 24 * time.Hour)
	default:
		m.maxAge = int64(a)
	}
	switch c := opts.Retention.MaxCount; {
	case c < 0:
		m.maxCount = -1
	case c == 0:
		m.maxCount = 100_000
	default:
		m.maxCount = c
	}
	empty := map[string]*memQueue{}
	m.queues.Store(&empty)
	return m, nil
}

// entry is one stored job. The entry, with the Job and the bytes of its ID
// inside it, is the only allocation a job costs.
type entry struct {
	job     Job
	at      int64  // ready and scheduled: RunAt; running: lease deadline (unix ns)
	seq     uint64 // enqueue order within the queue
	idx     int    // index in the heap holding it
	state   uint8
	fetches uint32 // times fetched: the lease token

	// The last settled attempt, so that settling it again with the same
	// kind is not an error (Backend.Settle).
	lastLease string
	lastKind  OutcomeKind

	idbuf [20]byte // the ID's bytes; job.ID points here
}

const (
	stateReady uint8 = iota + 1
	stateScheduled
	stateRunning
)

// clock is one reading of the Memory's clock, in both forms.
type clock struct {
	t  time.Time
	ns int64
}

func (m *Memory) clock() clock {
	t := m.now()
	return clock{t, t.UnixNano()}
}

// queue returns the queue named name, creating it when create is set (nil
// otherwise when it does not exist).
func (m *Memory) queue(name string, create bool) *memQueue {
	if q := (*m.queues.Load())[name]; q != nil || !create {
		return q
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old := *m.queues.Load()
	if q := old[name]; q != nil {
		return q
	}
	q := &memQueue{name: name, m: m, jobs: map[string]*entry{}}
	next := make(map[string]*memQueue, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[name] = q
	m.queues.Store(&next)
	return q
}

func queueName(j *Job) string {
	if j.Queue == "" {
		return "default"
	}
	return j.Queue
}

func validQueue(what, q string) error {
	if q == "" {
		return fmt.Errorf("%w: %s: empty queue name", ErrInvalidOptions, what)
	}
	return nil
}

func validateJob(i int, j *Job) error {
	switch {
	case j == nil:
		return fmt.Errorf("%w: jobs[%d]: nil job", ErrInvalidOptions, i)
	case j.ID != "":
		return fmt.Errorf("%w: jobs[%d].ID %q: must be empty (the backend assigns IDs)", ErrInvalidOptions, i, j.ID)
	case j.MaxAttempts < 1:
		return fmt.Errorf("%w: jobs[%d].MaxAttempts %d: must be ≥ 1", ErrInvalidOptions, i, j.MaxAttempts)
	case j.Priority < 0 || j.Priority > 3:
		return fmt.Errorf("%w: jobs[%d].Priority %d: must be 0…3", ErrInvalidOptions, i, j.Priority)
	}
	return nil
}

// Enqueue implements Backend. The jobs of one call are stored all or none.
// With FullReject a batch that does not fit fails with ErrQueueFull; with
// FullBlock it waits for room. A batch larger than MaxJobs never fits and
// fails with ErrQueueFull under either policy.
func (m *Memory) Enqueue(ctx context.Context, jobs []*Job) ([]EnqueueResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	single := true
	for i, j := range jobs {
		if err := validateJob(i, j); err != nil {
			return nil, err
		}
		if queueName(j) != queueName(jobs[0]) {
			single = false
		}
	}
	res := make([]EnqueueResult, len(jobs))
	if len(jobs) == 0 {
		return res, nil
	}
	if err := m.reserve(ctx, len(jobs)); err != nil {
		return nil, err
	}
	now := m.clock()
	id := m.ids.Add(uint64(len(jobs))) - uint64(len(jobs))
	stored := 0
	if single {
		q := m.queue(queueName(jobs[0]), true)
		q.mu.Lock()
		for i, j := range jobs {
			id++
			if q.insert(j, id, now, &res[i]) {
				stored++
			}
		}
		q.wake()
		q.mu.Unlock()
	} else {
		qs := m.lockAll(jobs)
		for i, j := range jobs {
			id++
			if qs[queueName(j)].insert(j, id, now, &res[i]) {
				stored++
			}
		}
		for _, q := range qs {
			q.wake()
			q.mu.Unlock()
		}
	}
	if d := len(jobs) - stored; d > 0 {
		m.release(d)
	}
	return res, nil
}

// lockAll locks every queue the jobs name, in name order (so two batches
// spanning the same queues cannot deadlock), and returns them by name.
func (m *Memory) lockAll(jobs []*Job) map[string]*memQueue {
	qs := map[string]*memQueue{}
	var names []string
	for _, j := range jobs {
		n := queueName(j)
		if qs[n] == nil {
			qs[n] = m.queue(n, true)
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		qs[n].mu.Lock()
	}
	return qs
}

// reserve takes room for n jobs under MaxJobs, waiting with FullBlock.
func (m *Memory) reserve(ctx context.Context, n int) error {
	if int64(n) > m.maxJobs {
		return fmt.Errorf("%w: a batch of %d jobs is larger than MaxJobs %d", ErrQueueFull, n, m.maxJobs)
	}
	for {
		cur := m.live.Load()
		if cur+int64(n) <= m.maxJobs {
			if m.live.CompareAndSwap(cur, cur+int64(n)) {
				return nil
			}
			continue
		}
		if !m.block {
			return fmt.Errorf("%w: %d jobs stored, MaxJobs %d", ErrQueueFull, cur, m.maxJobs)
		}
		m.mu.Lock()
		m.roomWaiters.Add(1)
		if m.room == nil {
			m.room = make(chan struct{})
		}
		ch := m.room
		m.mu.Unlock()
		// A release between the Load above and registering as a waiter has
		// not seen the waiter: look again before sleeping.
		if m.live.Load()+int64(n) <= m.maxJobs {
			m.roomWaiters.Add(-1)
			continue
		}
		select {
		case <-ch:
			m.roomWaiters.Add(-1)
		case <-ctx.Done():
			m.roomWaiters.Add(-1)
			return ctx.Err()
		}
	}
}

// release gives back room for n jobs that left the store.
func (m *Memory) release(n int) {
	if n == 0 {
		return
	}
	m.live.Add(-int64(n))
	if m.roomWaiters.Load() > 0 {
		m.mu.Lock()
		if m.room != nil {
			close(m.room)
			m.room = nil
		}
		m.mu.Unlock()
	}
}

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
		n = min(n, max(req.Limit-len(q.leased), 0))
	}
	if req.Rate.N > 0 && n > 0 {
		q.refill(now.ns)
		n = min(n, int(q.tokens))
		q.tokens -= float64(n)
	}
	var out []*Job
	if n > 0 {
		out = make([]*Job, n)
		deadline := now.ns + int64(req.Lease)
		for i := range out {
			e := q.popReady()
			e.job.Attempt++
			e.fetches++
			e.job.Lease = strconv.FormatUint(uint64(e.fetches), 10) // no allocation below 100
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
		if e := q.jobs[j.ID]; e != nil && e.state == stateRunning && e.job.Lease == j.Lease {
			e.at = now.ns + int64(d)
			q.leased.fix(e.idx)
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
	e := q.jobs[id]
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
		Running:   int64(len(q.leased)),
		Dead:      int64(q.dead.len()),
		Paused:    q.paused,
	}
	var oldest *entry
	for p := range q.ready {
		if h := q.ready[p]; len(h) > 0 && (oldest == nil || h[0].job.RunAt.Before(oldest.job.RunAt)) {
			oldest = h[0]
		}
	}
	if oldest != nil {
		s.Oldest = oldest.job.RunAt
	}
	q.mu.Unlock()
	m.release(freed)
	return s, nil
}

// memQueue is one queue's state, under its own lock.
type memQueue struct {
	mu     sync.Mutex
	name   string
	m      *Memory
	seq    uint64
	ready  [4]entryHeap // by priority, each by RunAt then enqueue order
	nready int
	sched  entryHeap // by RunAt
	leased entryHeap // by lease deadline
	jobs   map[string]*entry

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
func (q *memQueue) insert(j *Job, id uint64, now clock, res *EnqueueResult) bool {
	if j.UniqueKey != "" {
		q.pruneHolds(now.ns)
		if h := q.unique[j.UniqueKey]; h != nil {
			res.ID, res.Duplicate = h.id, true
			return false
		}
	}
	e := &entry{job: *j}
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
	e.at = e.job.RunAt.UnixNano()
	q.jobs[e.job.ID] = e
	q.place(e, now.ns)
	res.ID = e.job.ID
	if j.UniqueKey != "" {
		if until := j.UniqueUntil.UnixNano(); until > now.ns {
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
		if len(q.ready[p]) > 0 {
			q.nready--
			return q.ready[p].pop()
		}
	}
	panic("queue: popReady on an empty queue") // callers check nready
}

// unlink takes e out of whichever heap holds it (and out of jobs).
func (q *memQueue) unlink(e *entry) {
	switch e.state {
	case stateReady:
		q.ready[e.job.Priority].remove(e.idx)
		q.nready--
	case stateScheduled:
		q.sched.remove(e.idx)
	case stateRunning:
		q.leased.remove(e.idx)
	}
	e.state = 0
	delete(q.jobs, e.job.ID)
}

// again stores a copy of e (taken out of its heap by the caller) to run
// again: the Job handed out under the old lease is never modified after.
func (q *memQueue) again(e *entry, now int64) *entry {
	ne := &entry{}
	*ne = *e
	ne.job.Lease = ""
	q.jobs[ne.job.ID] = ne
	return ne
}

// kill dead-letters e, already unlinked, with reason. lastKind is Dead
// when a Settle asked for it (so settling it again is idempotent), 0
// otherwise.
func (q *memQueue) kill(e *entry, now clock, reason string, lastKind OutcomeKind) {
	d := &deadEntry{job: e.job, reason: reason, diedAt: now.t, fetches: e.fetches, lastKind: lastKind}
	d.job.Lease = ""
	if lastKind != 0 {
		d.lastLease = e.job.Lease
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
	for len(q.leased) > 0 && q.leased[0].at <= now.ns {
		e := q.leased.pop()
		e.state = 0
		if e.job.Attempt >= e.job.MaxAttempts {
			delete(q.jobs, e.job.ID)
			q.kill(e, now, "lease expired on attempt "+strconv.Itoa(e.job.Attempt), 0)
			freed++
			continue
		}
		ne := q.again(e, now.ns)
		ne.at = ne.job.RunAt.UnixNano()
		q.place(ne, now.ns)
	}
	q.dead.trim(now.ns, q.m.maxAge, q.m.maxCount)
	if q.nready > before || freed > 0 && q.limit > 0 {
		q.wake()
	}
	return freed
}

// settle applies one outcome under the queue's lock.
func (q *memQueue) settle(o *Outcome, now clock) error {
	e := q.jobs[o.Job.ID]
	if e == nil || e.state != stateRunning || e.job.Lease != o.Job.Lease {
		if q.settledBefore(e, o) {
			return nil
		}
		return ErrLeaseLost
	}
	q.leased.remove(e.idx)
	e.state = 0
	switch o.Kind {
	case Done:
		delete(q.jobs, e.job.ID)
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
		delete(q.jobs, e.job.ID)
		q.kill(e, now, o.Err, Dead)
		q.freed++
		if q.limit > 0 {
			q.wake()
		}
		return nil
	}
	ne := q.again(e, now.ns)
	ne.lastLease, ne.lastKind = e.job.Lease, o.Kind
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
	ne.at = ne.job.RunAt.UnixNano()
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
		return e.lastLease == lease && e.lastKind == o.Kind
	case o.Kind == Done:
		for _, s := range q.done {
			if s.id == id && s.lease == lease {
				return true
			}
		}
	case o.Kind == Dead:
		d := q.dead.byID[id]
		return d != nil && d.lastLease == lease && d.lastKind == Dead
	}
	return false
}

// fetchable reports whether a Fetch with the last Limit and Rate seen would
// return a job now.
func (q *memQueue) fetchable(now int64) bool {
	if q.paused || q.nready == 0 || q.limit > 0 && len(q.leased) >= q.limit {
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
	if len(q.leased) > 0 {
		earlier(q.leased[0].at)
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
