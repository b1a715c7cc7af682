package queue

import (
	"context"
	"time"
)

// Backend stores jobs and hands them out under leases. The in-memory
// backend (NewMemory), queue/redisqueue and queue/pgqueue implement it, and
// queue/queuetest.Run checks that an implementation keeps every promise
// written here. Users normally reach a Backend through a Client (producer)
// and a Worker (consumer); they implement one only to add a new store.
//
// Every method is safe for concurrent use by many Clients and Workers, in
// one process or in many: a limit, a lease or a unique key holds across all
// of them. Every method that does I/O honours ctx and returns ctx.Err()
// (possibly wrapped) when it ends early; a call that returns an error has
// either changed nothing or, where the doc says "per item", reports which
// items it changed.
//
// Time: RunAt, EnqueuedAt, UniqueUntil and Outcome.At are absolute times
// from the caller's clock. Lease deadlines are the backend's own business:
// a backend shared by several machines measures leases on one clock (the
// server's), so that clock skew between workers cannot shorten a lease.
type Backend interface {
	// Enqueue stores jobs, in one round trip where the store allows, and
	// returns one EnqueueResult per job, in order. Job.ID must be empty on
	// input: the backend assigns IDs (unique within the backend, never
	// reused). A job with a UniqueKey whose key is held by another job of
	// the same Queue until a UniqueUntil in the future is not stored: its
	// result has Duplicate set and the holder's ID. A key is held from
	// enqueue until the holder's UniqueUntil, whatever happens to the
	// holder meanwhile. The jobs of one call are stored all or none where
	// the store can do so atomically (memory and PostgreSQL do; Redis does
	// per queue); the backend documents what it does.
	Enqueue(ctx context.Context, jobs []*Job) ([]EnqueueResult, error)

	// Fetch leases up to req.Max ready jobs of req.Queue: jobs whose RunAt
	// has passed, lowest Priority first, then earliest RunAt, then earliest
	// enqueue. Each returned job has Attempt incremented (1 on its first
	// run), Lease set, and is invisible to every other Fetch until its
	// lease runs out, is released or is settled. A job whose lease ran out
	// is ready again at once (seconds, not an hour), and a Fetch that
	// returns it increments Attempt again: a job that keeps crashing its
	// worker reaches MaxAttempts and is dead-lettered by the Fetch that
	// would start attempt MaxAttempts+1 (reason "lease expired on attempt
	// N"), as SQS's maxReceiveCount does.
	//
	// A paused queue returns no job. req.Limit and req.Rate, when set, are
	// enforced atomically with the claim across every fetcher of the
	// queue. A job the backend cannot decode (a hand-edited row, a
	// corrupted stream entry) is dead-lettered with the reason, never
	// returned and never retried forever; it does not fail the Fetch.
	//
	// Fetch never blocks waiting for jobs: with none ready it returns an
	// empty slice and a nil error. Wait is for blocking.
	Fetch(ctx context.Context, req FetchRequest) ([]*Job, error)

	// Wait blocks until a job of queue may have become ready (an enqueue,
	// a release, a due delayed job), until max has elapsed, or until ctx is
	// done; it returns nil in the first two cases. A spurious early return
	// is allowed; sleeping past an enqueue by more than max is not.
	// Backends with a push channel (memory, PostgreSQL LISTEN) wake at once
	// on an enqueue; others poll within max.
	Wait(ctx context.Context, queue string, max time.Duration) error

	// Extend renews the leases of running jobs (the heartbeat) to d from
	// now on the backend's clock. It returns one bool per job: false when
	// the lease is lost (it ran out and the job was fetched again, the job
	// was cancelled, or it no longer exists). A worker cancels the handler
	// of a job whose lease is lost.
	Extend(ctx context.Context, jobs []*Job, d time.Duration) ([]bool, error)

	// Settle applies the outcomes of finished attempts, in one round trip
	// where the store allows, and returns one error per outcome (nil when
	// applied). An outcome whose lease is no longer held changes nothing
	// and reports ErrLeaseLost; settling an outcome twice with the same
	// lease is not an error the second time when the first applied the
	// same kind (so a handler that completed its job in its own
	// transaction, as pgqueue.CompleteTx does, can still be settled Done).
	// The returned error is for the call as a whole (the store is down):
	// then no per-item slice is returned and the caller retries the call.
	Settle(ctx context.Context, outcomes []Outcome) ([]error, error)

	// Cancel ends the job with this ID in queue: a job waiting to run is
	// dead-lettered with reason "cancelled" at once; a running job's lease
	// is revoked, so the next Extend reports it lost (its handler's
	// context is cancelled) and its Settle reports ErrLeaseLost, and it is
	// dead-lettered. ErrNotFound when no such job is waiting or running.
	Cancel(ctx context.Context, queue, id string) error

	// Pause stops (paused=true) or resumes handing out jobs of queue to
	// every Fetch of every instance. Enqueue still accepts jobs; running
	// jobs finish.
	Pause(ctx context.Context, queue string, paused bool) error

	// Stats reports queue's depth now.
	Stats(ctx context.Context, queue string) (BackendStats, error)

	// Dead lists dead-lettered jobs of queue, newest first, a page at a
	// time: pass the Cursor of the previous page's last job to go on.
	Dead(ctx context.Context, queue string, page Page) ([]DeadJob, error)

	// RetryDead moves dead-lettered jobs of queue back to ready (Attempt
	// reset to 0, RunAt now), and returns how many it moved; IDs that are
	// not dead letters are skipped. With ids nil it moves every dead job.
	RetryDead(ctx context.Context, queue string, ids []string) (int, error)

	// PurgeDead deletes dead-lettered jobs of queue (all when ids is nil)
	// and returns how many it deleted.
	PurgeDead(ctx context.Context, queue string, ids []string) (int, error)
}

// Job is one unit of work as a Backend stores it. Producers set the fields
// through EnqueueOptions; a Worker reads them.
type Job struct {
	ID          string            // assigned by the backend at enqueue; empty before
	Kind        string            // names the handler that runs it
	Queue       string            // "default" when empty at enqueue
	Args        []byte            // encoded arguments (JSON by default)
	Priority    int               // 0 (runs first, the default) … 3 (runs last)
	Attempt     int               // attempts started, counting the one running now
	MaxAttempts int               // attempts allowed before the job is dead-lettered; ≥ 1
	Timeout     time.Duration     // bound on one attempt; > 0
	RunAt       time.Time         // not run before this time
	EnqueuedAt  time.Time         // when the producer enqueued it
	UniqueKey   string            // empty, or the key held until UniqueUntil (see Backend.Enqueue)
	UniqueUntil time.Time         // end of the unique window
	Meta        map[string]string // user metadata, plus "traceparent" linking the run to the enqueue
	LastError   string            // the last failed attempt's error (with the stack for a panic)

	// Lease identifies the current lease; set by Fetch, opaque to callers.
	// Extend, Settle and pgqueue.CompleteTx present it; a backend rejects
	// one that is no longer current (a fencing token).
	Lease string
}

// EnqueueResult is what Enqueue did with one job.
type EnqueueResult struct {
	ID        string // the new job's ID, or for a duplicate the ID of the job holding the unique key
	Duplicate bool   // a job with the same UniqueKey holds it: nothing was stored
}

// FetchRequest asks Fetch for jobs of one queue.
type FetchRequest struct {
	Queue  string        // required
	Max    int           // at most this many jobs; ≥ 1
	Lease  time.Duration // visibility timeout of each returned job; > 0
	Worker string        // the fetching worker's identity (diagnostics; a Redis consumer name)

	// Limit, when > 0, caps the jobs of Queue leased at once across every
	// fetcher of every instance (a global concurrency limit): Fetch returns
	// at most Limit minus the leases outstanding.
	Limit int

	// Rate, when its N > 0, caps how many jobs of Queue every fetcher of
	// every instance together may start: N per Per, with bursts up to
	// Burst (a token bucket shared through the backend).
	Rate Rate
}

// Rate is a shared token bucket: N starts per Per, bursting to Burst.
type Rate struct {
	N     int           // starts per Per; 0: no rate limit
	Per   time.Duration // the period; > 0 when N > 0
	Burst int           // bucket size; 0 means N
}

// OutcomeKind says how an attempt ended.
type OutcomeKind uint8

const (
	// Done: the job succeeded and is deleted (its unique key stays held
	// until UniqueUntil).
	Done OutcomeKind = iota + 1
	// Retry: the attempt failed; the job runs again at At (Attempt stays
	// counted) with Err recorded as LastError. A Worker sends Dead instead
	// once Attempt reaches MaxAttempts.
	Retry
	// Snooze: run again at At without using an attempt (Attempt is
	// decremented back).
	Snooze
	// Dead: the job is dead-lettered with Err as the reason (failed its
	// last attempt, was cancelled by its handler, has an unknown kind or
	// malformed arguments).
	Dead
	// Release: put the job back, ready at once, without using an attempt
	// (graceful shutdown, a lost slot). At is ignored.
	Release
)

// Outcome is the end of one attempt, for Backend.Settle.
type Outcome struct {
	Job  *Job        // the fetched job (ID, Queue and Lease identify the attempt)
	Kind OutcomeKind // what to do
	At   time.Time   // Retry and Snooze: when it runs again
	Err  string      // Retry and Dead: the error recorded
}

// BackendStats is one queue's depth at a moment.
type BackendStats struct {
	Ready     int64     // runnable now
	Scheduled int64     // waiting for a future RunAt (delayed, retrying, snoozed)
	Running   int64     // leased
	Dead      int64     // dead letters kept
	Oldest    time.Time // RunAt of the oldest ready job; zero when none is ready
	Paused    bool
}

// DeadJob is a dead-lettered job and why it died.
type DeadJob struct {
	Job    Job
	Reason string    // the last error, "cancelled: …", "unknown kind …", "malformed …", "lease expired on attempt N"
	DiedAt time.Time // when it was dead-lettered
	Cursor string    // pass as Page.After to list the jobs after this one
}

// Page selects a page of a listing.
type Page struct {
	After string // a DeadJob.Cursor from the previous page; empty for the first page
	Limit int    // jobs per page; 0 means 100
}

// Retention bounds the dead letters a backend keeps per queue; backends
// take it in their options. The zero value keeps dead letters for 14 days
// and at most 100,000 per queue (oldest removed first); a negative field
// turns that bound off. asynq hard-codes 90 days and 10,000; here both are
// yours to set.
type Retention struct {
	MaxAge   time.Duration // < 0: no age limit; 0: 14 days
	MaxCount int           // < 0: no count limit; 0: 100,000
}
