package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// A handler that ignores its ctx is bounded by its timeout: its ctx is
// cancelled at the deadline, and after a grace its job is retried, its slot
// freed (the next job runs), and its goroutine counted abandoned.
func TestTimeoutAbandonsAHandlerThatNeverReturns(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		unblock := make(chan struct{})
		var ctxDone atomic.Bool
		var calls atomic.Int32
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			if calls.Add(1) == 1 {
				go func() { <-ctx.Done(); ctxDone.Store(errors.Is(ctx.Err(), context.DeadlineExceeded)) }()
				<-unblock // ignores ctx
			}
			return nil
		}, HandlerOptions{})
		c := mustClient(t, f)
		enqueue(t, c, argsA{N: 1}, EnqueueOptions{Timeout: 10 * time.Second})
		r := start(t, f, h, WorkerOptions{Queues: map[string]QueueOptions{"default": {Concurrency: 1}}, PollInterval: 100 * time.Millisecond})
		time.Sleep(5 * time.Second)
		enqueue(t, c, argsA{N: 2}, EnqueueOptions{})
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if calls.Load() != 1 {
			t.Fatalf("second job started while the only slot was busy (%d calls)", calls.Load())
		}
		time.Sleep(1500 * time.Millisecond) // deadline (10 s) passed, grace (1 s) not yet
		synctest.Wait()
		if !ctxDone.Load() {
			t.Fatal("handler ctx not cancelled with DeadlineExceeded at its timeout")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		st := r.w.Stats()
		if st.Abandoned != 1 {
			t.Fatalf("Abandoned %d, want 1", st.Abandoned)
		}
		if calls.Load() < 2 {
			t.Fatalf("the slot was not freed: %d calls", calls.Load())
		}
		var retry *Outcome
		for _, o := range f.outcomes() {
			if o.Kind == Retry {
				retry = &o
			}
		}
		if retry == nil || !strings.Contains(retry.Err, "timeout") {
			t.Fatalf("outcomes %+v: want a Retry with a timeout reason", f.outcomes())
		}
		close(unblock)
	})
}

// A job whose lease is lost (cancelled by the Client while running) has
// its handler's ctx cancelled at the next heartbeat.
func TestLeaseLostCancelsTheHandler(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		started := make(chan string, 1)
		ended := make(chan error, 1)
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			started <- j.ID
			<-ctx.Done()
			ended <- ctx.Err()
			return ctx.Err()
		}, HandlerOptions{})
		c := mustClient(t, m)
		enqueue(t, c, argsA{}, EnqueueOptions{})
		r := start(t, m, h, WorkerOptions{Lease: 3 * time.Second})
		id := <-started
		if err := c.Cancel(context.Background(), "", id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1100 * time.Millisecond) // one heartbeat (Lease/3)
		synctest.Wait()
		select {
		case err := <-ended:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("ctx.Err() %v, want Canceled", err)
			}
		default:
			t.Fatal("handler still running after its lease was lost")
		}
		synctest.Wait()
		if st := r.w.Stats(); st.LeaseLost != 1 {
			t.Fatalf("stats %+v, want LeaseLost 1", st)
		}
	})
}

// The heartbeat keeps a job running far past its Lease: no other fetch
// gets it, it runs once.
func TestHeartbeatKeepsALongJobsLease(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		var runs atomic.Int32
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			runs.Add(1)
			select {
			case <-time.After(time.Minute):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, HandlerOptions{})
		c := mustClient(t, m)
		enqueue(t, c, argsA{}, EnqueueOptions{Timeout: 2 * time.Minute})
		start(t, m, h, WorkerOptions{Lease: time.Second, Queues: map[string]QueueOptions{"default": {Concurrency: 2}}})
		start(t, m, h, WorkerOptions{Lease: time.Second}) // a second worker would take it if the lease ran out
		time.Sleep(61 * time.Second)
		synctest.Wait()
		if n := runs.Load(); n != 1 {
			t.Fatalf("ran %d times, want 1", n)
		}
		if s, _ := c.Stats(context.Background(), ""); s.Ready+s.Running+s.Scheduled != 0 {
			t.Fatalf("stats %+v: want the job done", s)
		}
	})
}

// Graceful shutdown: jobs that finish within ShutdownTimeout are settled
// Done; one that does not is cancelled and its lease released, so it is
// ready again at once; nothing is lost.
func TestGracefulShutdownReleasesUnfinishedJobs(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		var started sync.WaitGroup
		started.Add(2)
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			started.Done()
			d := time.Duration(j.Args.N) * time.Second
			select {
			case <-time.After(d):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}, HandlerOptions{})
		c := mustClient(t, m)
		enqueue(t, c, argsA{N: 2}, EnqueueOptions{})   // finishes during shutdown
		enqueue(t, c, argsA{N: 100}, EnqueueOptions{}) // does not
		r := start(t, m, h, WorkerOptions{ShutdownTimeout: 5 * time.Second})
		started.Wait()
		t0 := time.Now()
		r.stop(t)
		if d := time.Since(t0); d < 5*time.Second || d > 7*time.Second {
			t.Errorf("shutdown took %v, want ShutdownTimeout (5 s) plus little", d)
		}
		s, _ := c.Stats(context.Background(), "")
		if s.Ready != 1 || s.Running != 0 || s.Dead != 0 {
			t.Fatalf("after shutdown: %+v, want the unfinished job ready again", s)
		}
		st := r.w.Stats()
		if st.Succeeded != 1 || st.Released != 1 {
			t.Fatalf("worker stats %+v, want 1 succeeded, 1 released", st)
		}
		// Attempt not used: the released job's next fetch is attempt 1.
		jobs, _ := m.Fetch(context.Background(), FetchRequest{Queue: "default", Max: 10, Lease: time.Second})
		if len(jobs) != 1 || jobs[0].Attempt != 1 {
			t.Fatalf("refetched %+v, want one job at attempt 1", jobs)
		}
	})
}

// A handler that ignores its ctx does not hold shutdown forever: its job
// is released and Run returns.
func TestShutdownAbandonsAHandlerIgnoringCtx(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		unblock := make(chan struct{})
		started := make(chan struct{})
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			close(started)
			<-unblock
			return nil
		}, HandlerOptions{})
		c := mustClient(t, m)
		enqueue(t, c, argsA{}, EnqueueOptions{Timeout: time.Hour})
		r := start(t, m, h, WorkerOptions{ShutdownTimeout: time.Second})
		<-started
		r.stop(t)
		if st := r.w.Stats(); st.Abandoned != 1 || st.Released != 1 {
			t.Fatalf("stats %+v, want 1 abandoned and released", st)
		}
		if s, _ := c.Stats(context.Background(), ""); s.Ready != 1 {
			t.Fatalf("stats %+v, want the job ready again", s)
		}
		close(unblock)
		synctest.Wait()
	})
}

// Concurrency bounds the handlers running at once.
func TestConcurrencyBoundHolds(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		var now, peak atomic.Int32
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			n := now.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Duration(j.Args.N) * time.Millisecond)
			now.Add(-1)
			return nil
		}, HandlerOptions{})
		c := mustClient(t, m)
		reqs := make([]Request, 200)
		for i := range reqs {
			reqs[i] = Request{Args: argsA{N: i % 7}}
		}
		if _, err := c.EnqueueMany(context.Background(), reqs); err != nil {
			t.Fatal(err)
		}
		r := start(t, m, h, WorkerOptions{Queues: map[string]QueueOptions{"default": {Concurrency: 5}}})
		time.Sleep(time.Minute)
		synctest.Wait()
		if p := peak.Load(); p != 5 {
			t.Fatalf("peak concurrency %d, want 5", p)
		}
		if st := r.w.Stats(); st.Succeeded != 200 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// Limit and Rate reach the backend in every FetchRequest, with the
// worker's ID, the Lease and Max bounded by free slots and FetchBatch.
func TestLimitAndRatePassedToFetch(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		rate := Rate{N: 5, Per: time.Second, Burst: 2}
		start(t, f, h, WorkerOptions{ID: "w1", Lease: 9 * time.Second,
			Queues: map[string]QueueOptions{"q": {Concurrency: 8, FetchBatch: 3, Limit: 4, Rate: rate}}})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.fetches) == 0 {
			t.Fatal("no fetch")
		}
		for _, r := range f.fetches {
			if r.Queue != "q" || r.Limit != 4 || r.Rate != rate || r.Worker != "w1" || r.Lease != 9*time.Second || r.Max != 3 {
				t.Fatalf("fetch %+v", r)
			}
		}
	})
}

// A backend failing Settle and Extend: the worker keeps running jobs'
// leases as long as it can, retries the outcomes with backoff, and once the
// backend answers again every outcome is applied; it does not spin (a
// bounded number of calls) and nothing is lost.
func TestBackendFailingSettleAndExtendThenRecovering(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			time.Sleep(time.Duration(j.Args.N) * time.Second)
			return nil
		}, HandlerOptions{})
		c := mustClient(t, f)
		f.set(func(f *fakeBackend) { f.failSettle, f.failExtend = true, true })
		for i := range 5 {
			enqueue(t, c, argsA{N: i}, EnqueueOptions{})
		}
		r := start(t, f, h, WorkerOptions{Lease: 30 * time.Second})
		time.Sleep(15 * time.Second)
		synctest.Wait()
		if f.pending() != 5 {
			t.Fatalf("%d jobs left while Settle fails, want 5", f.pending())
		}
		f.set(func(f *fakeBackend) {
			if f.settleCalls > 200 || f.extendCalls > 200 {
				t.Errorf("spinning: %d settles, %d extends in 15 s", f.settleCalls, f.extendCalls)
			}
			f.failSettle, f.failExtend = false, false
		})
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if n := f.pending(); n != 0 {
			t.Fatalf("%d jobs left after the backend recovered, want 0", n)
		}
		if st := r.w.Stats(); st.Succeeded != 5 {
			t.Fatalf("stats %+v", st)
		}
	})
}

// When the backend stays down past a lease, the handler still running is
// cancelled (another worker may run the job now) and its outcome is dropped,
// not applied late.
func TestExtendFailingPastTheLeaseCancelsTheHandler(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		h := &Handlers{}
		ended := make(chan error, 1)
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			<-ctx.Done()
			ended <- ctx.Err()
			return ctx.Err()
		}, HandlerOptions{})
		enqueue(t, mustClient(t, f), argsA{}, EnqueueOptions{})
		f.set(func(f *fakeBackend) { f.failExtend = true })
		start(t, f, h, WorkerOptions{Lease: 3 * time.Second})
		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		select {
		case err := <-ended:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("ctx.Err() %v", err)
			}
		default:
			t.Fatal("handler not cancelled after its lease ran out unrenewed")
		}
	})
}

// A fetch error (backend down) is retried with a bounded backoff.
func TestFetchFailingDoesNotSpin(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		f := newFake()
		f.failFetch = true
		start(t, f, &Handlers{}, WorkerOptions{PollInterval: time.Second})
		time.Sleep(30 * time.Second)
		synctest.Wait()
		f.mu.Lock()
		n := len(f.fetches)
		f.mu.Unlock()
		if n > 60 {
			t.Fatalf("%d fetches in 30 s while failing, want a backoff", n)
		}
	})
}

// Run returns when ctx is cancelled, and a second Run is refused.
func TestRunReturnsOnCancelAndRunsOnce(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		m, _ := NewMemory(MemoryOptions{})
		w, err := NewWorker(m, &Handlers{}, WorkerOptions{Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- w.Run(ctx) }()
		time.Sleep(time.Second)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		if err := w.Run(context.Background()); !errors.Is(err, ErrClosed) {
			t.Fatalf("second Run: %v, want ErrClosed", err)
		}
	})
}
