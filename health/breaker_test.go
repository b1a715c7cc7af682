package health

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/internal/testenv"
)

var errBackend = errors.New("backend unavailable")

func call(t *testing.T, b Breaker, outcome error) error {
	t.Helper()
	done, err := b.Allow(context.Background())
	if err != nil {
		return err
	}
	done(outcome)
	return nil
}

func TestGoBreakerTripsAndRecovers(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		var changes []string
		b, err := NewGoBreaker("db", GoBreakerOptions{Logger: quiet, Settings: gobreaker.Settings{
			Timeout: 5 * time.Second,
			OnStateChange: func(_ string, from, to gobreaker.State) {
				changes = append(changes, from.String()+">"+to.String())
			},
		}})
		if err != nil {
			t.Fatal(err)
		}
		// The caller's cancellations never trip it.
		for range 100 {
			if err := call(t, b, context.Canceled); err != nil {
				t.Fatal(err)
			}
			if err := call(t, b, context.DeadlineExceeded); err != nil {
				t.Fatal(err)
			}
		}
		if b.State() != BreakerClosed || b.Counts().TotalFailures != 0 {
			t.Fatalf("after cancellations: %v %+v", b.State(), b.Counts())
		}
		for i := range 6 { // gobreaker's default trips after more than 5 consecutive failures
			if err := call(t, b, errBackend); err != nil {
				t.Fatalf("call %d rejected: %v", i, err)
			}
		}
		if b.State() != BreakerOpen {
			t.Fatalf("after 6 failures: %v", b.State())
		}
		err = call(t, b, nil)
		if !errors.Is(err, ErrOpen) || !errors.Is(err, gobreaker.ErrOpenState) || b.Rejections() != 1 {
			t.Fatalf("open: %v, rejections %d", err, b.Rejections())
		}
		time.Sleep(5*time.Second + time.Nanosecond) // gobreaker: expiry strictly before now
		if b.State() != BreakerHalfOpen {
			t.Fatalf("after Timeout: %v", b.State())
		}
		done, err := b.Allow(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := call(t, b, nil); !errors.Is(err, ErrOpen) || !errors.Is(err, gobreaker.ErrTooManyRequests) {
			t.Fatalf("second half-open call: %v", err)
		}
		done(nil)
		if b.State() != BreakerClosed || b.Rejections() != 2 {
			t.Fatalf("after trial success: %v, rejections %d", b.State(), b.Rejections())
		}
		want := []string{"closed>open", "open>half-open", "half-open>closed"}
		if len(changes) != 3 || changes[0] != want[0] || changes[1] != want[1] || changes[2] != want[2] {
			t.Fatalf("changes %v", changes)
		}
	})
}

func TestBreakerAllowCancelledContext(t *testing.T) {
	gb, _ := NewGoBreaker("a", GoBreakerOptions{Logger: quiet})
	th, _ := NewThrottle("a", ThrottleOptions{Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, b := range []Breaker{gb, th} {
		if _, err := b.Allow(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ErrOpen) {
			t.Errorf("%T: %v", b, err)
		}
		if b.Rejections() != 0 {
			t.Errorf("%T: rejections %d", b, b.Rejections())
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestThrottleProbability(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	u := ^uint64(0) // never below p: nothing rejected
	th, err := NewThrottle("api", ThrottleOptions{Logger: quiet, Window: 10 * time.Second, Buckets: 10,
		Now: clk.now, Rand: func() uint64 { return u }})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := call(t, th, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		if err := call(t, th, errBackend); err != nil {
			t.Fatal(err)
		}
	}
	// requests 30, accepts 10, K 2: (30 − 20) / 31
	if p := th.DropProbability(); math.Abs(p-10.0/31) > 1e-9 || th.State() != BreakerThrottling {
		t.Fatalf("p = %v, state %v", p, th.State())
	}
	// Cancellations change nothing.
	for range 50 {
		_ = call(t, th, context.Canceled)
	}
	if p := th.DropProbability(); math.Abs(p-10.0/31) > 1e-9 {
		t.Fatalf("after cancellations p = %v", p)
	}
	u = 0 // always below p: every call rejected, and counted as a request
	for i := range 3 {
		if err := call(t, th, nil); !errors.Is(err, ErrOpen) {
			t.Fatalf("rejection %d: %v", i, err)
		}
	}
	if th.Rejections() != 3 || math.Abs(th.DropProbability()-13.0/34) > 1e-9 {
		t.Fatalf("rejections %d p %v", th.Rejections(), th.DropProbability())
	}
	// Half the window later the counts are still there; a full window later they are gone.
	clk.t = clk.t.Add(5 * time.Second)
	if th.DropProbability() == 0 {
		t.Fatal("forgot too early")
	}
	clk.t = clk.t.Add(5 * time.Second)
	if p := th.DropProbability(); p != 0 || th.State() != BreakerClosed {
		t.Fatalf("a window later p = %v", p)
	}
	if err := call(t, th, nil); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// An injected clock may start at the zero Time (or anywhere before 1970):
// Allow used to index its buckets with a negative number and panic.
func TestThrottleClockBeforeEpoch(t *testing.T) {
	for _, start := range []time.Time{{}, time.Unix(-7, 0), time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)} {
		clk := &fakeClock{t: start}
		th, err := NewThrottle("api", ThrottleOptions{Logger: quiet, Window: 10 * time.Second, Buckets: 10,
			Now: clk.now, Rand: func() uint64 { return ^uint64(0) }})
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			if err := call(t, th, errBackend); err != nil {
				t.Fatal(err)
			}
		}
		// requests 30, accepts 0: 30/31
		if p := th.DropProbability(); math.Abs(p-30.0/31) > 1e-9 {
			t.Fatalf("start %v: p = %v", start, p)
		}
		clk.t = clk.t.Add(-1500 * time.Millisecond) // a clock may go back
		if err := call(t, th, errBackend); err != nil {
			t.Fatal(err)
		}
		clk.t = clk.t.Add(20 * time.Second)
		if p := th.DropProbability(); p != 0 {
			t.Fatalf("start %v: a window later p = %v", start, p)
		}
	}
}

func TestThrottleIsFailure(t *testing.T) {
	notFound := errors.New("not found")
	th, err := NewThrottle("api", ThrottleOptions{Logger: quiet,
		IsFailure: func(err error) bool { return !errors.Is(err, notFound) },
		Rand:      func() uint64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := call(t, th, notFound); err != nil {
			t.Fatalf("a backend answering 'not found' is healthy: %v", err)
		}
	}
}

// Against a backend with a fixed capacity (one call per ten attempts), the
// throttle sends about K times what the backend accepts, and the backend
// stays busy: its capacity is still used.
func TestThrottleConvergesToKTimesAccepts(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var seed uint64 = 42
	rnd := func() uint64 { seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17; return seed }
	th, err := NewThrottle("api", ThrottleOptions{Logger: quiet, Now: clk.now, Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	const attempts = 20000
	var sent, accepted int
	tokens := 0.0
	for range attempts {
		tokens = min(tokens+0.1, 20) // capacity, with a small queue
		done, err := th.Allow(context.Background())
		if err != nil {
			continue
		}
		sent++
		if tokens >= 1 {
			tokens--
			accepted++
			done(nil)
		} else {
			done(errBackend)
		}
	}
	ratio := float64(sent) / float64(accepted)
	t.Logf("sent %d accepted %d ratio %.2f rejections %d", sent, accepted, ratio, th.Rejections())
	if ratio < 1.5 || ratio > 2.5 {
		t.Errorf("sent/accepted = %.2f, want ≈ K = 2", ratio)
	}
	if accepted < attempts/10*8/10 {
		t.Errorf("accepted %d: the throttle starved a backend that could take %d", accepted, attempts/10)
	}
}

// A dependency that stops answering fails its calls on their own deadlines
// (an http.Client Timeout, a WithTimeout inside the call) while the caller
// still waits: that must trip the breaker, or a hung backend is never cut
// off. Only the caller's own ctx being done is not the dependency's fault.
func TestDoCountsTheCallsOwnDeadline(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		hung := func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, time.Second) // the client's timeout
			defer cancel()
			<-ctx.Done()
			return fmt.Errorf("GET /: %w", ctx.Err())
		}
		gb, _ := NewGoBreaker("x", GoBreakerOptions{Logger: quiet})
		th, _ := NewThrottle("y", ThrottleOptions{Logger: quiet})
		for _, b := range []Breaker{gb, th} {
			for range 20 {
				if err := Do(context.Background(), b, hung); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrOpen) {
					t.Fatalf("%T: %v", b, err)
				}
			}
			if b.State() == BreakerClosed {
				t.Errorf("%T: a backend timing out every call left the breaker closed", b)
			}
		}
		// The caller's deadline passing while the call runs is not counted.
		gb2, _ := NewGoBreaker("z", GoBreakerOptions{Logger: quiet})
		for range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err := Do(ctx, gb2, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
		}
		if gb2.State() != BreakerClosed || gb2.Counts().TotalFailures != 0 {
			t.Errorf("caller's deadline counted: %v %+v", gb2.State(), gb2.Counts())
		}
	})
}

func TestDoReportsPanicAndErrors(t *testing.T) {
	b, _ := NewGoBreaker("x", GoBreakerOptions{Logger: quiet, Settings: gobreaker.Settings{
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }}})
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic swallowed")
			}
		}()
		_ = Do(context.Background(), b, func(context.Context) error { panic("x") })
	}()
	if b.State() != BreakerOpen {
		t.Fatalf("panic not counted as failure: %v", b.State())
	}
	if err := Do(context.Background(), b, func(context.Context) error { return nil }); !errors.Is(err, ErrOpen) {
		t.Fatalf("Do through open breaker: %v", err)
	}
	ok, _ := NewThrottle("y", ThrottleOptions{Logger: quiet})
	if err := Do(context.Background(), ok, func(context.Context) error { return errBackend }); err != errBackend {
		t.Fatalf("Do error: %v", err)
	}
}

func TestBreakerBadInput(t *testing.T) {
	if _, err := NewGoBreaker("", GoBreakerOptions{Logger: quiet}); !errors.Is(err, ErrInvalidOptions) {
		t.Error(err)
	}
	// gobreaker would allocate a bucket per BucketPeriod (terabytes here),
	// or overflow to no bucket and panic on the first Allow.
	for _, st := range []gobreaker.Settings{{Interval: time.Hour, BucketPeriod: time.Nanosecond},
		{Interval: math.MaxInt64, BucketPeriod: 2}, {Interval: math.MaxInt64 - 1, BucketPeriod: math.MaxInt64 / 4}} {
		if _, err := NewGoBreaker("g", GoBreakerOptions{Logger: quiet, Settings: st}); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", st, err)
		}
	}
	for _, st := range []gobreaker.Settings{{Interval: time.Minute, BucketPeriod: time.Second}, {Interval: time.Minute},
		{BucketPeriod: time.Nanosecond}, {Interval: math.MaxInt64}} {
		b, err := NewGoBreaker("g", GoBreakerOptions{Logger: quiet, Settings: st})
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		if err := call(t, b, errBackend); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []ThrottleOptions{{K: 0.5}, {K: -1}, {K: math.NaN()}, {K: math.Inf(1)}, {Buckets: -1}, {Buckets: 1001}} {
		if _, err := NewThrottle("t", o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, err := NewThrottle("", ThrottleOptions{Logger: quiet}); !errors.Is(err, ErrInvalidOptions) {
		t.Error(err)
	}
}

func TestBreakerMetrics(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	gb, _ := NewGoBreaker("gb", GoBreakerOptions{Logger: quiet, MeterProvider: mp, Settings: gobreaker.Settings{
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 }}})
	th, _ := NewThrottle("th", ThrottleOptions{Logger: quiet, MeterProvider: mp, Rand: func() uint64 { return 0 }})
	_ = call(t, gb, errBackend)
	_ = call(t, gb, nil)
	for range 5 {
		_ = call(t, th, errBackend)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	rej := map[string]int64{}
	state := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch m.Name {
			case "ladder.health.breaker.rejections":
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					v, _ := dp.Attributes.Value(attrBreaker)
					rej[v.AsString()] = dp.Value
				}
			case "ladder.health.breaker.state":
				for _, dp := range m.Data.(metricdata.Gauge[int64]).DataPoints {
					v, _ := dp.Attributes.Value(attrBreaker)
					state[v.AsString()] = dp.Value
				}
			}
		}
	}
	if rej["gb"] != 1 || rej["th"] != int64(th.Rejections()) || rej["th"] == 0 {
		t.Errorf("rejections %v (throttle %d)", rej, th.Rejections())
	}
	if state["gb"] != int64(BreakerOpen) || state["th"] != int64(BreakerThrottling) {
		t.Errorf("state %v", state)
	}
}
