package queue

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"
)

// fakeBackend is a small Backend for the worker's own tests: a map and a
// mutex, leases on the real (or synctest) clock, faults on demand, and a
// record of every call the worker made.
type fakeBackend struct {
	mu      sync.Mutex
	seq     int
	jobs    map[string]*fakeJob
	order   []string
	unique  map[string]time.Time // queue/key → held until
	dead    []DeadJob
	paused  map[string]bool
	notify  chan struct{}
	settled []Outcome
	fetches []FetchRequest
	extends int

	failFetch, failSettle, failExtend bool
	settleCalls, extendCalls          int
}

type fakeJob struct {
	job        Job
	leased     bool
	lease      string
	leaseUntil time.Time
}

func newFake() *fakeBackend {
	return &fakeBackend{jobs: map[string]*fakeJob{}, unique: map[string]time.Time{}, paused: map[string]bool{}, notify: make(chan struct{})}
}

var errDown = errors.New("fake backend down")

func (f *fakeBackend) wake() {
	close(f.notify)
	f.notify = make(chan struct{})
}

func (f *fakeBackend) Enqueue(ctx context.Context, jobs []*Job) ([]EnqueueResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	out := make([]EnqueueResult, len(jobs))
	for i, j := range jobs {
		if j.UniqueKey != "" {
			k := j.Queue + "/" + j.UniqueKey
			if until, ok := f.unique[k]; ok && now.Before(until) {
				out[i] = EnqueueResult{ID: "dup", Duplicate: true}
				continue
			}
			f.unique[k] = j.UniqueUntil
		}
		f.seq++
		id := strconv.Itoa(f.seq)
		c := *j
		c.ID = id
		f.jobs[id] = &fakeJob{job: c}
		f.order = append(f.order, id)
		out[i] = EnqueueResult{ID: id}
	}
	f.wake()
	return out, nil
}

func (f *fakeBackend) Fetch(ctx context.Context, req FetchRequest) ([]*Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fetches = append(f.fetches, req)
	if f.failFetch {
		return nil, errDown
	}
	if f.paused[req.Queue] {
		return nil, nil
	}
	now := time.Now()
	var out []*Job
	for _, id := range f.order {
		fj, ok := f.jobs[id]
		if !ok || fj.job.Queue != req.Queue || fj.job.RunAt.After(now) {
			continue
		}
		if fj.leased && now.Before(fj.leaseUntil) {
			continue
		}
		if len(out) == req.Max {
			break
		}
		fj.job.Attempt++
		f.seq++
		fj.leased, fj.lease, fj.leaseUntil = true, strconv.Itoa(f.seq), now.Add(req.Lease)
		fj.job.Lease = fj.lease
		c := fj.job
		out = append(out, &c)
	}
	return out, nil
}

func (f *fakeBackend) Wait(ctx context.Context, queue string, max time.Duration) error {
	f.mu.Lock()
	ch := f.notify
	f.mu.Unlock()
	t := time.NewTimer(max)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

func (f *fakeBackend) Extend(ctx context.Context, jobs []*Job, d time.Duration) ([]bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extendCalls++
	if f.failExtend {
		return nil, errDown
	}
	f.extends++
	now := time.Now()
	ok := make([]bool, len(jobs))
	for i, j := range jobs {
		fj, found := f.jobs[j.ID]
		if found && fj.leased && fj.lease == j.Lease && now.Before(fj.leaseUntil) {
			fj.leaseUntil = now.Add(d)
			ok[i] = true
		}
	}
	return ok, nil
}

func (f *fakeBackend) Settle(ctx context.Context, ocs []Outcome) ([]error, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settleCalls++
	if f.failSettle {
		return nil, errDown
	}
	errs := make([]error, len(ocs))
	for i, o := range ocs {
		fj, ok := f.jobs[o.Job.ID]
		if !ok || !fj.leased || fj.lease != o.Job.Lease {
			errs[i] = ErrLeaseLost
			continue
		}
		f.settled = append(f.settled, o)
		fj.leased = false
		switch o.Kind {
		case Done:
			delete(f.jobs, o.Job.ID)
		case Retry:
			fj.job.RunAt, fj.job.LastError = o.At, o.Err
		case Snooze:
			fj.job.RunAt = o.At
			fj.job.Attempt--
		case Release:
			fj.job.Attempt--
			fj.job.RunAt = time.Now()
		case Dead:
			delete(f.jobs, o.Job.ID)
			f.dead = append(f.dead, DeadJob{Job: fj.job, Reason: o.Err, DiedAt: time.Now()})
		}
	}
	f.wake()
	return errs, nil
}

func (f *fakeBackend) Cancel(ctx context.Context, queue, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fj, ok := f.jobs[id]
	if !ok {
		return ErrNotFound
	}
	delete(f.jobs, id)
	f.dead = append(f.dead, DeadJob{Job: fj.job, Reason: "cancelled", DiedAt: time.Now()})
	return nil
}

func (f *fakeBackend) Pause(ctx context.Context, queue string, paused bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused[queue] = paused
	f.wake()
	return nil
}

func (f *fakeBackend) Stats(ctx context.Context, queue string) (BackendStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s BackendStats
	now := time.Now()
	for _, fj := range f.jobs {
		switch {
		case fj.job.Queue != queue:
		case fj.leased && now.Before(fj.leaseUntil):
			s.Running++
		case fj.job.RunAt.After(now):
			s.Scheduled++
		default:
			s.Ready++
		}
	}
	s.Dead = int64(len(f.dead))
	s.Paused = f.paused[queue]
	return s, nil
}

func (f *fakeBackend) Dead(ctx context.Context, queue string, p Page) ([]DeadJob, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dead), nil
}

func (f *fakeBackend) RetryDead(ctx context.Context, queue string, ids []string) (int, error) {
	return 0, nil
}

func (f *fakeBackend) PurgeDead(ctx context.Context, queue string, ids []string) (int, error) {
	return 0, nil
}

// set runs fn under the lock (to flip faults).
func (f *fakeBackend) set(fn func(f *fakeBackend)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeBackend) outcomes() []Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.settled)
}

func (f *fakeBackend) deadJobs() []DeadJob {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dead)
}

func (f *fakeBackend) pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.jobs)
}

var _ Backend = (*fakeBackend)(nil)
