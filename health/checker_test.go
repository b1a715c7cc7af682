package health

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/internal/testenv"
)

type counted struct {
	runs  atomic.Int64
	fail  atomic.Bool
	sleep time.Duration
}

func (c *counted) check(ctx context.Context) error {
	c.runs.Add(1)
	if c.sleep > 0 {
		select {
		case <-time.After(c.sleep):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c.fail.Load() {
		return errBackend
	}
	return nil
}

func newTestChecker(t *testing.T, o CheckerOptions, checks ...Check) *Checker {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet
	}
	c, err := NewChecker(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, chk := range checks {
		if err := c.Add(chk); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCheckerCaches(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		db := &counted{}
		c := newTestChecker(t, CheckerOptions{CacheTTL: 5 * time.Second}, Check{Name: "db", Func: db.check})
		for range 10 {
			if r := c.Report(context.Background()); r.Status != StatusUp {
				t.Fatalf("%+v", r)
			}
		}
		if n := db.runs.Load(); n != 1 {
			t.Fatalf("runs within TTL = %d, want 1", n)
		}
		time.Sleep(5 * time.Second)
		c.Report(context.Background())
		if n := db.runs.Load(); n != 2 {
			t.Fatalf("runs after TTL = %d, want 2", n)
		}
	})
}

func TestCheckerNoCacheStillSharesRuns(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		db := &counted{sleep: 100 * time.Millisecond}
		c := newTestChecker(t, CheckerOptions{CacheTTL: -1}, Check{Name: "db", Func: db.check})
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if r := c.Report(context.Background()); r.Status != StatusUp {
					t.Errorf("%+v", r)
				}
			})
		}
		wg.Wait()
		if n := db.runs.Load(); n != 1 {
			t.Fatalf("50 concurrent reports ran the check %d times, want 1", n)
		}
		c.Report(context.Background())
		if n := db.runs.Load(); n != 2 {
			t.Fatalf("uncached report: runs %d, want 2", n)
		}
	})
}

func TestCheckerRunsConcurrently(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		a, b := &counted{sleep: time.Second}, &counted{sleep: time.Second}
		c := newTestChecker(t, CheckerOptions{}, Check{Name: "a", Func: a.check}, Check{Name: "b", Func: b.check, Timeout: 3 * time.Second})
		start := time.Now()
		r := c.Report(context.Background())
		if took := time.Since(start); took != time.Second || r.Status != StatusUp {
			t.Fatalf("two 1s checks took %v (fake clock), status %v", took, r.Status)
		}
		if len(r.Checks) != 2 || r.Checks[0].Name != "a" || r.Checks[1].Name != "b" || r.Checks[0].Duration != time.Second {
			t.Fatalf("%+v", r.Checks)
		}
	})
}

func TestCheckerTimeouts(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		release := make(chan struct{})
		slow := &counted{sleep: time.Hour}
		c := newTestChecker(t, CheckerOptions{Timeout: 5 * time.Second},
			Check{Name: "slow", Func: slow.check, Timeout: 200 * time.Millisecond},
			Check{Name: "deaf", Func: func(context.Context) error { <-release; return nil }}, // ignores ctx
		)
		defer close(release)
		start := time.Now()
		r := c.Report(context.Background())
		if took := time.Since(start); took != 5*time.Second {
			t.Fatalf("report took %v, want the longest timeout 5s", took)
		}
		for _, cr := range r.Checks {
			if cr.Status != StatusDown || !errors.Is(cr.Err, context.DeadlineExceeded) {
				t.Errorf("%s: %v %v", cr.Name, cr.Status, cr.Err)
			}
		}
		if r.Checks[1].Duration != 200*time.Millisecond {
			t.Errorf("slow check duration %v: its own Timeout was not applied", r.Checks[1].Duration)
		}
	})
}

func TestCheckerPanicIsFailure(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newTestChecker(t, CheckerOptions{}, Check{Name: "p", Func: func(context.Context) error { panic("oops") }})
		r := c.Report(context.Background())
		if r.Status != StatusDown || !errors.Is(r.Checks[0].Err, ErrPanic) {
			t.Fatalf("%+v", r)
		}
	})
}

func TestAggregate(t *testing.T) {
	up := CheckResult{Status: StatusUp, Critical: true}
	down := CheckResult{Status: StatusDown, Critical: true}
	unknown := CheckResult{Status: StatusUnknown, Critical: true}
	optDown := CheckResult{Status: StatusDown}
	optUnknown := CheckResult{Status: StatusUnknown}
	for _, tc := range []struct {
		in       []CheckResult
		shutdown bool
		want     Status
	}{
		{nil, false, StatusUp},
		{nil, true, StatusDown},
		{[]CheckResult{up, up}, false, StatusUp},
		{[]CheckResult{up, up}, true, StatusDown},
		{[]CheckResult{up, optDown}, false, StatusDegraded},
		{[]CheckResult{up, optUnknown}, false, StatusUp},
		{[]CheckResult{optDown, unknown}, false, StatusUnknown},
		{[]CheckResult{unknown, down, optDown}, false, StatusDown},
	} {
		if got := aggregate(tc.in, tc.shutdown); got != tc.want {
			t.Errorf("aggregate(%+v, %v) = %v, want %v", tc.in, tc.shutdown, got, tc.want)
		}
	}
}

func TestCheckerTransitionsAndDegrade(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		var mu sync.Mutex
		var got []Transition
		db, cache := &counted{}, &counted{}
		c := newTestChecker(t, CheckerOptions{CacheTTL: -1, OnTransition: func(tr Transition) { mu.Lock(); got = append(got, tr); mu.Unlock() }},
			Check{Name: "db", Func: db.check}, Check{Name: "cache", Func: cache.check, NonCritical: true})
		if c.Status() != StatusUnknown {
			t.Fatalf("before any run: %v", c.Status())
		}
		c.Report(context.Background())
		cache.fail.Store(true)
		if r := c.Report(context.Background()); r.Status != StatusDegraded {
			t.Fatalf("non-critical failure: %v", r.Status)
		}
		db.fail.Store(true)
		c.Report(context.Background())
		if c.Status() != StatusDown {
			t.Fatalf("critical failure: %v", c.Status())
		}
		synctest.Wait() // listeners run in the checks' goroutines
		mu.Lock()
		defer mu.Unlock()
		type tr struct {
			name     string
			from, to Status
		}
		var seen []tr
		for _, g := range got {
			seen = append(seen, tr{g.Name, g.From, g.To})
		}
		// Adding a check makes the aggregate unknown silently; the first
		// results make it up.
		want := map[tr]bool{{"", StatusUnknown, StatusUp}: true,
			{"db", StatusUnknown, StatusUp}: true, {"cache", StatusUnknown, StatusUp}: true,
			{"cache", StatusUp, StatusDown}: true, {"", StatusUp, StatusDegraded}: true,
			{"db", StatusUp, StatusDown}: true, {"", StatusDegraded, StatusDown}: true,
		}
		for _, s := range seen {
			if !want[s] {
				t.Errorf("unexpected transition %+v", s)
			}
			delete(want, s)
		}
		if len(want) != 0 {
			t.Errorf("missing transitions %v (saw %v)", want, seen)
		}
		if last := seen[len(seen)-1]; last != (tr{"", StatusDegraded, StatusDown}) {
			t.Errorf("last transition %+v", last)
		}
	})
}

func TestCheckerBackground(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		db := &counted{}
		c := newTestChecker(t, CheckerOptions{Interval: 10 * time.Second}, Check{Name: "db", Func: db.check})
		synctest.Wait()
		if db.runs.Load() != 1 || c.Status() != StatusUp {
			t.Fatalf("at Add: runs %d status %v", db.runs.Load(), c.Status())
		}
		for range 5 {
			c.Report(context.Background())
		}
		if db.runs.Load() != 1 {
			t.Fatalf("Report ran checks in background mode: %d", db.runs.Load())
		}
		db.fail.Store(true)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if db.runs.Load() != 2 || c.Report(context.Background()).Status != StatusDown {
			t.Fatalf("after Interval: runs %d", db.runs.Load())
		}
		c.Close()
		time.Sleep(time.Minute)
		if db.runs.Load() != 2 {
			t.Fatalf("ran after Close: %d", db.runs.Load())
		}
	})
}

func TestCheckerShutdown(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		var mu sync.Mutex
		var last Transition
		db := &counted{}
		c := newTestChecker(t, CheckerOptions{CacheTTL: -1, OnTransition: func(tr Transition) { mu.Lock(); last = tr; mu.Unlock() }}, Check{Name: "db", Func: db.check})
		c.Report(context.Background())
		synctest.Wait()
		c.Shutdown()
		r := c.Report(context.Background())
		if r.Status != StatusDown || c.Status() != StatusDown || db.runs.Load() != 1 {
			t.Fatalf("after Shutdown: %v runs %d", r.Status, db.runs.Load())
		}
		mu.Lock()
		defer mu.Unlock()
		if last.Name != "" || last.From != StatusUp || last.To != StatusDown {
			t.Fatalf("transition %+v", last)
		}
	})
}

func TestCheckerCallerGivesUp(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		db := &counted{sleep: time.Second}
		c := newTestChecker(t, CheckerOptions{}, Check{Name: "db", Func: db.check})
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		r := c.Report(ctx)
		if r.Checks[0].Status != StatusUnknown || r.Checks[0].Err != nil {
			t.Fatalf("caller's timeout reported as %+v", r.Checks[0])
		}
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		// The run went on and its result was cached for the next caller.
		if st := c.Status(); st != StatusUp {
			t.Fatalf("after the run finished: %v", st)
		}
	})
}

func TestCheckerBadInput(t *testing.T) {
	c := newTestChecker(t, CheckerOptions{})
	f := func(context.Context) error { return nil }
	for _, chk := range []Check{{Func: f}, {Name: "x"}, {Name: "x", Func: f, Timeout: -1}} {
		if err := c.Add(chk); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", chk, err)
		}
	}
	if err := c.Add(Check{Name: "x", Func: f}); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(Check{Name: "x", Func: f}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	c.Close()
	if err := c.Add(Check{Name: "y", Func: f}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	var zero Checker
	if r := zero.Report(context.Background()); r.Status != StatusUp {
		t.Errorf("zero Checker: %v", r.Status)
	}
}

func TestCheckerMetrics(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		reader := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
		db := &counted{sleep: 250 * time.Millisecond}
		db.fail.Store(true)
		c := newTestChecker(t, CheckerOptions{MeterProvider: mp}, Check{Name: "db", Func: db.check})
		c.Report(context.Background())
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		var dur float64
		var status int64 = -1
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				switch m.Name {
				case "ladder.health.check.duration":
					dp := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
					if v, _ := dp.Attributes.Value(attrOutcome); v.AsString() == "failure" {
						dur = dp.Sum
					}
				case "ladder.health.check.status":
					dp := m.Data.(metricdata.Gauge[int64]).DataPoints[0]
					if v, _ := dp.Attributes.Value(attrCheck); v.AsString() == "db" {
						status = dp.Value
					}
				}
			}
		}
		if dur != 0.25 || status != int64(StatusDown) {
			t.Fatalf("duration %v status %v", dur, status)
		}
	})
}

// within fails the test if f does not return in a generous bound: a
// liveness check for deadlocks, not a speed assertion.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: deadlock", what)
	}
}

// A listener may call back into the Checker, for example to start a drain
// when a critical check fails; its own transitions still arrive, in order.
func TestCheckerListenerCallsShutdown(t *testing.T) {
	var c *Checker
	db := &counted{}
	var got []Transition // calls are serialised
	c = newTestChecker(t, CheckerOptions{CacheTTL: -1, OnTransition: func(tr Transition) {
		got = append(got, tr)
		if tr.Name == "db" && tr.To == StatusDown {
			c.Shutdown()
		}
	}}, Check{Name: "db", Func: db.check})
	db.fail.Store(true)
	within(t, "Shutdown from OnTransition", func() { c.Report(context.Background()); c.Close() })
	if c.Status() != StatusDown {
		t.Errorf("status %v", c.Status())
	}
	if len(got) != 2 || got[0].Name != "db" || got[1].Name != "" || got[1].To != StatusDown {
		t.Errorf("transitions %+v", got)
	}
}

// A listener may run a Report: it gets real results, not timeouts.
func TestCheckerListenerCallsReport(t *testing.T) {
	var c *Checker
	db := &counted{}
	var mu sync.Mutex
	var inner []Report
	c = newTestChecker(t, CheckerOptions{CacheTTL: -1, Timeout: time.Second, OnTransition: func(tr Transition) {
		if tr.Name == "db" {
			r := c.Report(context.Background())
			mu.Lock()
			inner = append(inner, r)
			mu.Unlock()
		}
	}}, Check{Name: "db", Func: db.check})
	within(t, "Report from OnTransition", func() { c.Report(context.Background()) })
	mu.Lock()
	defer mu.Unlock()
	for _, r := range inner {
		for _, cr := range r.Checks {
			if cr.Err != nil {
				t.Errorf("inner report: %v", cr.Err)
			}
		}
	}
}

// A listener that reads Status while another check's result is being
// recorded must not deadlock.
func TestCheckerListenerCallsStatusWhileAnotherCheckEnds(t *testing.T) {
	bDone := make(chan struct{})
	var c *Checker
	var once sync.Once
	c = newTestChecker(t, CheckerOptions{CacheTTL: -1, OnTransition: func(tr Transition) {
		if tr.Name == "a" {
			once.Do(func() {
				<-bDone
				time.Sleep(50 * time.Millisecond) // let b's run reach its listener call
			})
		}
		_ = c.Status()
	}},
		Check{Name: "a", Func: func(context.Context) error { return nil }},
		Check{Name: "b", Func: func(context.Context) error {
			time.Sleep(10 * time.Millisecond)
			defer close(bDone)
			return nil
		}})
	within(t, "Status from OnTransition", func() { c.Report(context.Background()); c.Close() })
}

func TestCheckerAddAfterShutdownDoesNotRun(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		c := newTestChecker(t, CheckerOptions{Interval: time.Second})
		c.Shutdown()
		db := &counted{}
		if err := c.Add(Check{Name: "db", Func: db.check}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if n := db.runs.Load(); n != 0 {
			t.Fatalf("check ran %d times after Shutdown", n)
		}
	})
}

// A check that ignores its context (a read from a dead NFS mount) is
// reported down once its Timeout passes, in the aggregate and to listeners,
// not only to the Report that waited for it: in background mode Report used
// to show it healthy forever. No second copy starts while it hangs, and its
// own result counts when it finally returns.
func TestCheckerHungCheckIsReportedDown(t *testing.T) {
	for _, interval := range []time.Duration{0, 10 * time.Second} {
		testenv.Bubble(t, func(t *testing.T) {
			var mu sync.Mutex
			var got []Transition
			release := make(chan struct{})
			var runs atomic.Int64
			hang := atomic.Bool{}
			c := newTestChecker(t, CheckerOptions{Interval: interval, CacheTTL: -1, Timeout: time.Second,
				OnTransition: func(tr Transition) { mu.Lock(); got = append(got, tr); mu.Unlock() }},
				Check{Name: "disk", Func: func(context.Context) error {
					runs.Add(1)
					if hang.Load() {
						<-release // ignores ctx
					}
					return nil
				}})
			c.Report(context.Background())
			synctest.Wait()
			if c.Status() != StatusUp {
				t.Fatalf("interval %v: status %v", interval, c.Status())
			}
			hang.Store(true)
			go c.Report(context.Background())
			time.Sleep(interval + 2*time.Second)
			synctest.Wait()
			r := c.Report(context.Background())
			if c.Status() != StatusDown || r.Status != StatusDown || !errors.Is(r.Checks[0].Err, context.DeadlineExceeded) {
				t.Fatalf("interval %v: hung check: Status %v, Report %+v", interval, c.Status(), r)
			}
			time.Sleep(3 * interval)
			synctest.Wait()
			c.Report(context.Background())
			if n := runs.Load(); n != 2 {
				t.Errorf("interval %v: %d runs, want 2 (no second copy while one hangs)", interval, n)
			}
			hang.Store(false)
			close(release)
			synctest.Wait()
			if c.Status() != StatusUp {
				t.Fatalf("interval %v: after the check returned: %v", interval, c.Status())
			}
			mu.Lock()
			defer mu.Unlock()
			var names []string
			for _, tr := range got {
				names = append(names, tr.Name+":"+tr.To.String())
			}
			if want := "disk:up :up disk:down :down disk:up :up"; strings.Join(names, " ") != want {
				t.Errorf("interval %v: transitions %q, want %q", interval, names, want)
			}
		})
	}
}

// Status is what a readiness gate in front of every request reads.
func TestCheckerStatusAllocatesNothing(t *testing.T) {
	c := newTestChecker(t, CheckerOptions{}, Check{Name: "db", Func: func(context.Context) error { return nil }},
		Check{Name: "cache", Func: func(context.Context) error { return nil }})
	c.Report(context.Background())
	if n := testing.AllocsPerRun(100, func() { _ = c.Status() }); n != 0 {
		t.Fatalf("Status allocates %v times", n)
	}
}
