package queuetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// Options tune Run for a backend.
type Options struct {
	// Lease is the short lease (real time) the suite grants where it waits
	// for one to run out, and the delay of the delayed jobs it waits for; 0
	// means 500 ms. Raise it for a backend whose clock is coarse. The suite
	// sleeps a few multiples of it, so one backend's run stays within
	// seconds.
	Lease time.Duration

	// TimePrecision is how far apart a time the suite stores (RunAt,
	// EnqueuedAt, UniqueUntil) may come back; 0 means 1 ms.
	TimePrecision time.Duration

	// Parallel is how many subtests run at once (each on queues of its
	// own, so that the suite's sleeps overlap); 0 means 8, 1 runs them one
	// at a time. Each running subtest holds the two Backends NewBackends
	// gave it (for a server backend: two clients and their connections).
	Parallel int
}

// NewBackends returns two handles on one store, as two processes sharing it
// would have them: a limit, a pause or a lease taken through one holds for
// the other. An in-process backend returns the same value twice; a Redis
// or PostgreSQL backend returns two Backends on separate clients with the
// same namespace, closed by t.Cleanup. The store may be shared by every
// subtest (each uses queues of its own, named with a random suffix) or
// fresh for each.
type NewBackends func(t *testing.T) (a, b queue.Backend)

// Run runs the conformance suite: one subtest per promise of queue.Backend's
// documentation. Time runs for real (a backend measures leases on its own
// clock), in short steps; Options.Lease sets their length. A backend over a
// server passes two clients on one namespace:
//
//	queuetest.Run(t, func(t *testing.T) (a, b queue.Backend) {
//		return newBackend(t, prefix), newBackend(t, prefix) // each closed by t.Cleanup
//	}, queuetest.Options{})
//
// Every subtest works on queues of its own, so prefix may be shared by the
// whole run. A failing subtest names the promise it checks (see its doc
// comment in this package's source).
func Run(t *testing.T, newBackends NewBackends, opts Options) {
	if opts.Lease <= 0 {
		opts.Lease = 500 * time.Millisecond
	}
	if opts.TimePrecision <= 0 {
		opts.TimePrecision = time.Millisecond
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 8
	}
	slots := make(chan struct{}, opts.Parallel)
	tests := []struct {
		name string
		fn   func(*testing.T, *env)
	}{
		{"EnqueueAssignsIDs", testEnqueueIDs},
		{"EnqueueEmptyBatch", testEnqueueEmpty},
		{"EnqueueKeepsFields", testEnqueueKeepsFields},
		{"EnqueueLargeBatch", testEnqueueLargeBatch},
		{"EnqueueDefaultQueue", testEnqueueDefaultQueue},
		{"UniqueKeyDuplicate", testUniqueDuplicate},
		{"UniqueKeyDuplicateInBatch", testUniqueInBatch},
		{"UniqueKeyPerQueue", testUniquePerQueue},
		{"UniqueKeyWindowEnds", testUniqueWindowEnds},
		{"UniqueKeyHeldAfterDone", testUniqueHeldAfterDone},
		{"UniqueKeyHeldAfterDead", testUniqueHeldAfterDead},
		{"FetchOrderPriorityFirst", testFetchOrderPriority},
		{"FetchOrderRunAtThenEnqueue", testFetchOrder},
		{"FetchDelayedNotBeforeRunAt", testFetchDelayed},
		{"FetchMax", testFetchMax},
		{"FetchEmptyReturnsAtOnce", testFetchEmpty},
		{"FetchQueuesApart", testFetchQueuesApart},
		{"LeaseHidesJob", testLeaseHides},
		{"LeaseExpiryRefetchNextAttempt", testLeaseExpiry},
		{"LeaseExpiryAtMaxAttemptsDeadLetters", testLeaseExpiryDead},
		{"ExtendKeepsLease", testExtendKeeps},
		{"ExtendSetsDeadlineFromNow", testExtendShortens},
		{"ExtendReportsLost", testExtendLost},
		{"SettleDoneDeletes", testSettleDone},
		{"SettleRetryRunsAtWithLastError", testSettleRetry},
		{"SettleRetryDelayed", testSettleRetryDelayed},
		{"SettleSnoozeKeepsAttempt", testSettleSnooze},
		{"SettleDeadListed", testSettleDead},
		{"SettleReleaseReadyAtOnce", testSettleRelease},
		{"SettleStaleLeaseLost", testSettleStale},
		{"SettleSameKindTwice", testSettleTwice},
		{"SettleBatchPerItem", testSettleBatch},
		{"CancelWaiting", testCancelWaiting},
		{"CancelScheduled", testCancelScheduled},
		{"CancelRunning", testCancelRunning},
		{"CancelMissing", testCancelMissing},
		{"PauseAcrossInstances", testPause},
		{"LimitAcrossInstances", testLimit},
		{"RateAcrossInstances", testRate},
		{"RateRefills", testRateRefills},
		{"Stats", testStats},
		{"DeadPaging", testDeadPaging},
		{"RetryDeadResetsAttempt", testRetryDead},
		{"RetryDeadAll", testRetryDeadAll},
		{"PurgeDead", testPurgeDead},
		{"WaitWakesOnEnqueue", testWaitEnqueue},
		{"WaitWakesOnRelease", testWaitRelease},
		{"WaitWakesOnDueJob", testWaitDue},
		{"WaitReturnsWithinMax", testWaitMax},
		{"WaitCanceled", testWaitCanceled},
		{"CanceledContext", testCanceledContext},
		{"BadInput", testBadInput},
		{"ForeignIDs", testForeignIDs},
		{"QueueNames", testQueueNames},
		{"RateExtremes", testRateExtremes},
		{"ConcurrentFetchersNeverShareAJob", testConcurrentFetchers},
		{"ConcurrentEnqueueAndFetch", testConcurrentEnqueueFetch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if opts.Parallel > 1 {
				t.Parallel()
			}
			slots <- struct{}{}
			defer func() { <-slots }()
			a, b := newBackends(t)
			if a == nil || b == nil {
				t.Fatal("queuetest: NewBackends returned a nil Backend")
			}
			tc.fn(t, &env{a: a, b: b, opts: opts, queue: queueName(t)})
		})
	}
}

// env is what one subtest works with.
type env struct {
	a, b  queue.Backend
	opts  Options
	queue string // this subtest's own queue
}

// queueName returns a queue name of the subtest's own.
func queueName(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := t.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return "qt-" + name + "-" + hex.EncodeToString(b[:])
}

// other returns another queue name of the subtest's own.
func (e *env) other(suffix string) string { return e.queue + "-" + suffix }

// job returns a valid job for queue q.
func job(q string) *queue.Job {
	return &queue.Job{Kind: "queuetest", Queue: q, Args: []byte(`{}`), MaxAttempts: 3,
		Timeout: time.Minute, EnqueuedAt: time.Now()}
}

// jobs returns n valid jobs for queue q.
func jobs(q string, n int) []*queue.Job {
	out := make([]*queue.Job, n)
	for i := range out {
		out[i] = job(q)
		out[i].Args = fmt.Appendf(nil, `{"i":%d}`, i)
	}
	return out
}

func enqueue(t *testing.T, b queue.Backend, js ...*queue.Job) []queue.EnqueueResult {
	t.Helper()
	res, err := b.Enqueue(t.Context(), js)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if len(res) != len(js) {
		t.Fatalf("Enqueue of %d jobs returned %d results", len(js), len(res))
	}
	return res
}

// enqueueIDs enqueues js and returns their IDs, failing on a duplicate.
func enqueueIDs(t *testing.T, b queue.Backend, js ...*queue.Job) []string {
	t.Helper()
	ids := make([]string, len(js))
	for i, r := range enqueue(t, b, js...) {
		if r.Duplicate || r.ID == "" {
			t.Fatalf("Enqueue: result %d = %+v, want a new ID", i, r)
		}
		ids[i] = r.ID
	}
	return ids
}

func (e *env) fetch(t *testing.T, b queue.Backend, max int, lease time.Duration) []*queue.Job {
	t.Helper()
	return fetchReq(t, b, queue.FetchRequest{Queue: e.queue, Max: max, Lease: lease, Worker: "queuetest"})
}

func fetchReq(t *testing.T, b queue.Backend, req queue.FetchRequest) []*queue.Job {
	t.Helper()
	js, err := b.Fetch(t.Context(), req)
	if err != nil {
		t.Fatalf("Fetch(%+v): %v", req, err)
	}
	if len(js) > req.Max {
		t.Fatalf("Fetch with Max %d returned %d jobs", req.Max, len(js))
	}
	for _, j := range js {
		if j == nil || j.ID == "" || j.Lease == "" {
			t.Fatalf("Fetch returned a job without ID or Lease: %+v", j)
		}
	}
	return js
}

// fetchOne fetches with a long lease and wants exactly one job.
func (e *env) fetchOne(t *testing.T, b queue.Backend) *queue.Job {
	t.Helper()
	js := e.fetch(t, b, 1, time.Minute)
	if len(js) != 1 {
		t.Fatalf("Fetch returned %d jobs, want 1", len(js))
	}
	return js[0]
}

// fetchNone wants no job.
func (e *env) fetchNone(t *testing.T, b queue.Backend, why string) {
	t.Helper()
	if js := e.fetch(t, b, 10, time.Minute); len(js) != 0 {
		t.Fatalf("%s: Fetch returned %d jobs (first %s), want none", why, len(js), js[0].ID)
	}
}

// eventuallyFetch polls Fetch until it returns a job, for up to 20 leases.
func (e *env) eventuallyFetch(t *testing.T, b queue.Backend, lease time.Duration) *queue.Job {
	t.Helper()
	deadline := time.Now().Add(20 * e.opts.Lease)
	for {
		if js := e.fetch(t, b, 1, lease); len(js) == 1 {
			return js[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no job became ready within %v", 20*e.opts.Lease)
		}
		time.Sleep(e.opts.Lease / 10)
	}
}

func settle(t *testing.T, b queue.Backend, os ...queue.Outcome) []error {
	t.Helper()
	errs, err := b.Settle(t.Context(), os)
	if err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if len(errs) != len(os) {
		t.Fatalf("Settle of %d outcomes returned %d errors", len(os), len(errs))
	}
	return errs
}

// settleOK settles and wants every outcome applied.
func settleOK(t *testing.T, b queue.Backend, os ...queue.Outcome) {
	t.Helper()
	for i, err := range settle(t, b, os...) {
		if err != nil {
			t.Fatalf("Settle: outcome %d (%v of %s): %v", i, os[i].Kind, os[i].Job.ID, err)
		}
	}
}

func wantLost(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, queue.ErrLeaseLost) {
		t.Fatalf("%s: err = %v, want ErrLeaseLost", what, err)
	}
}

func stats(t *testing.T, b queue.Backend, q string) queue.BackendStats {
	t.Helper()
	s, err := b.Stats(t.Context(), q)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return s
}

// wantCounts checks Stats' counts.
func wantCounts(t *testing.T, b queue.Backend, q string, ready, scheduled, running, dead int64) {
	t.Helper()
	s := stats(t, b, q)
	if s.Ready != ready || s.Scheduled != scheduled || s.Running != running || s.Dead != dead {
		t.Fatalf("Stats = ready %d, scheduled %d, running %d, dead %d; want %d, %d, %d, %d",
			s.Ready, s.Scheduled, s.Running, s.Dead, ready, scheduled, running, dead)
	}
}

func dead(t *testing.T, b queue.Backend, q string, p queue.Page) []queue.DeadJob {
	t.Helper()
	d, err := b.Dead(t.Context(), q, p)
	if err != nil {
		t.Fatalf("Dead: %v", err)
	}
	return d
}

// deadOne wants exactly one dead letter and returns it.
func deadOne(t *testing.T, b queue.Backend, q string) queue.DeadJob {
	t.Helper()
	d := dead(t, b, q, queue.Page{})
	if len(d) != 1 {
		t.Fatalf("Dead lists %d jobs, want 1", len(d))
	}
	return d[0]
}

func (e *env) sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -e.opts.TimePrecision || d > e.opts.TimePrecision {
		t.Errorf("%s = %v, want %v (±%v)", what, got, want, e.opts.TimePrecision)
	}
}

func ids(js []*queue.Job) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.ID
	}
	return out
}

func sortedIDs(js []*queue.Job) []string {
	out := ids(js)
	slices.Sort(out)
	return out
}

// noPanic runs f and turns a panic into a test failure naming what.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

func canceledCtx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
