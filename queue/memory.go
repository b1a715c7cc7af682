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
	idx     int32  // index in the heap holding it
	fetches uint32 // times fetched; the lease token is its decimal form

	// The last settled attempt (its fetch number; 0: none) and how it was
	// settled, so that settling it again the same way is not an error
	// (Backend.Settle).
	lastFetch uint32
	lastKind  OutcomeKind
	state     uint8

	idbuf [20]byte // the ID's bytes; job.ID points here
}

// entrySlab allocates the entries of one Enqueue call that are ready at
// once and hold no unique key a chunk at a time (one allocation per
// entrySlabMax jobs, not one per job). Such jobs leave the store about
// together (FIFO within a priority; a retried or released job is stored
// afresh), and a job that stays keeps at most its chunk alive. Delayed and
// unique jobs, whose lifetimes differ, get entries of their own.
type entrySlab struct {
	buf   []entry
	left  int  // jobs of the call not yet inserted
	adopt bool // the jobs are inside entries of batchJobs: store those in place
}

const entrySlabMax = 32

// get returns the entry to store j in: j's own when adopted.
func (s *entrySlab) get(j *Job, shared bool) *entry {
	s.left--
	if s.adopt && shared {
		return (*entry)(unsafe.Pointer(j))
	}
	if !shared {
		return new(entry)
	}
	if len(s.buf) == 0 {
		s.buf = make([]entry, min(entrySlabMax, s.left+1))
	}
	e := &s.buf[0]
	s.buf = s.buf[1:]
	return e
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
	return clock{t, unixNano(t)}
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
	q := &memQueue{name: name, m: m, jobs: map[uint64]*entry{}}
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
	return m.enqueue(ctx, jobs, false)
}

// batchJobs returns n Jobs for a Client to build a batch in, inside
// entries (chunks of entrySlabMax) that enqueue with adopt set stores in
// place instead of copying.
func batchJobs(n int) []*Job {
	jobs := make([]*Job, n)
	var chunk []entry
	for i := range jobs {
		if len(chunk) == 0 {
			chunk = make([]entry, min(entrySlabMax, n-i))
		}
		jobs[i] = &chunk[0].job
		chunk = chunk[1:]
	}
	return jobs
}

// An entry's Job is its first field: a *Job from batchJobs is its entry.
var _ [0]struct{} = [unsafe.Offsetof(entry{}.job)]struct{}{}

// enqueue is Enqueue; with adopt, every job comes from batchJobs and is
// owned by the call (a Client's EnqueueMany).
func (m *Memory) enqueue(ctx context.Context, jobs []*Job, adopt bool) ([]EnqueueResult, error) {
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
	sl := entrySlab{left: len(jobs), adopt: adopt}
	if single {
		q := m.queue(queueName(jobs[0]), true)
		q.mu.Lock()
		for i, j := range jobs {
			id++
			if q.insert(j, id, now, &res[i], &sl) {
				stored++
			}
		}
		q.wake()
		q.mu.Unlock()
	} else {
		qs := m.lockAll(jobs)
		for i, j := range jobs {
			id++
			if qs[queueName(j)].insert(j, id, now, &res[i], &sl) {
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
