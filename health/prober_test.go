package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ladder-go/ladder/internal/testenv"
)

var quiet = slog.New(slog.DiscardHandler)

// scripted is a probe whose next result the test sets.
type scripted struct {
	fail  atomic.Bool
	calls atomic.Int64
}

func (s *scripted) Probe(context.Context) error {
	s.calls.Add(1)
	if s.fail.Load() {
		return errors.New("boom")
	}
	return nil
}

func newTestProber(t *testing.T, o ProberOptions) *Prober {
	t.Helper()
	if o.Interval == 0 {
		o.Interval = time.Second
	}
	if o.Jitter == 0 {
		o.Jitter = -1
	}
	if o.Logger == nil {
		o.Logger = quiet
	}
	p, err := NewProber(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// step advances fake time by d and waits for the prober to settle.
func step(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// drain reads what ch holds once every goroutine of the bubble is blocked:
// the subscription's pump refills ch as it is read.
func drain(ch <-chan Transition) []Transition {
	var out []Transition
	for {
		synctest.Wait()
		select {
		case tr, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, tr)
		default:
			return out
		}
	}
}

func TestProberRiseFall(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Rise: 2, Fall: 3})
		defer p.Close()
		ch, unsub := p.Subscribe(16)
		defer unsub()
		pr := &scripted{}
		if st, ok := p.Status("a"); ok || st != StatusUnknown {
			t.Fatalf("before Add: %v %v", st, ok)
		}
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// The first result decides at once.
		if st, _ := p.Status("a"); st != StatusUp {
			t.Fatalf("after first success: %v", st)
		}
		pr.fail.Store(true)
		for i := 1; i <= 2; i++ {
			step(time.Second)
			if st, _ := p.Status("a"); st != StatusUp {
				t.Fatalf("after %d failures: %v, want up (fall 3)", i, st)
			}
		}
		step(time.Second)
		if st, _ := p.Status("a"); st != StatusDown {
			t.Fatalf("after 3 failures: %v", st)
		}
		pr.fail.Store(false)
		step(time.Second)
		if st, _ := p.Status("a"); st != StatusDown {
			t.Fatalf("after 1 success: %v, want down (rise 2)", st)
		}
		// A failure in between resets the success run.
		pr.fail.Store(true)
		step(time.Second)
		pr.fail.Store(false)
		step(time.Second)
		if st, _ := p.Status("a"); st != StatusDown {
			t.Fatalf("after fail,ok: %v", st)
		}
		step(time.Second)
		if st, _ := p.Status("a"); st != StatusUp {
			t.Fatalf("after 2 successes: %v", st)
		}
		got := drain(ch)
		want := []struct{ from, to Status }{{StatusUnknown, StatusUp}, {StatusUp, StatusDown}, {StatusDown, StatusUp}}
		if len(got) != len(want) {
			t.Fatalf("transitions %+v", got)
		}
		for i, w := range want {
			if got[i].Name != "a" || got[i].From != w.from || got[i].To != w.to {
				t.Errorf("transition %d = %+v, want %v→%v", i, got[i], w.from, w.to)
			}
		}
		if got[1].Err == nil || got[2].Err != nil {
			t.Errorf("Err: down=%v up=%v", got[1].Err, got[2].Err)
		}
		if pr.calls.Load() != 8 {
			t.Errorf("probes = %d, want 8 (immediate + 7 intervals)", pr.calls.Load())
		}
	})
}

func TestProberFirstFailureIsDown(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{})
		defer p.Close()
		pr := &scripted{}
		pr.fail.Store(true)
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st, _ := p.Status("a"); st != StatusDown {
			t.Fatalf("status %v", st)
		}
	})
}

func TestProberTimeoutAndPanic(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Timeout: 300 * time.Millisecond, Interval: time.Minute})
		defer p.Close()
		ch, unsub := p.Subscribe(4)
		defer unsub()
		hang := ProbeFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		if err := p.Add("hang", hang); err != nil {
			t.Fatal(err)
		}
		if err := p.Add("panic", ProbeFunc(func(context.Context) error { panic("kaboom") })); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st, _ := p.Status("panic"); st != StatusDown {
			t.Fatalf("panic: %v", st)
		}
		if st, _ := p.Status("hang"); st != StatusUnknown {
			t.Fatalf("hang before timeout: %v", st)
		}
		step(300 * time.Millisecond)
		if st, _ := p.Status("hang"); st != StatusDown {
			t.Fatalf("hang after timeout: %v", st)
		}
		for _, tr := range drain(ch) {
			switch tr.Name {
			case "panic":
				var pe *PanicError
				if !errors.Is(tr.Err, ErrPanic) || !errors.As(tr.Err, &pe) || pe.Value != "kaboom" {
					t.Errorf("panic err %v", tr.Err)
				}
			case "hang":
				if !errors.Is(tr.Err, context.DeadlineExceeded) {
					t.Errorf("hang err %v", tr.Err)
				}
			}
		}
	})
}

// A probe that ignores its context (a user ProbeFunc on a blocking call)
// still fails at Timeout, and keeps failing each turn while it hangs: the
// target used to stay up forever. No second probe starts behind it.
func TestProberProbeIgnoringContextFails(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Timeout: 300 * time.Millisecond, Fall: 2, Rise: 1})
		defer p.Close()
		release := make(chan struct{})
		var hang atomic.Bool
		var calls atomic.Int64
		pr := ProbeFunc(func(context.Context) error {
			calls.Add(1)
			if hang.Load() {
				<-release
			}
			return nil
		})
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		hang.Store(true)
		step(time.Second + 375*time.Millisecond)
		if st, _ := p.Status("a"); st != StatusUp {
			t.Fatalf("after one timeout: %v, want up (fall 2)", st)
		}
		step(time.Second)
		if st, _ := p.Status("a"); st != StatusDown {
			t.Fatalf("hung for two turns: %v", st)
		}
		if n := calls.Load(); n != 2 {
			t.Fatalf("%d probes started, want 2", n)
		}
		hang.Store(false)
		close(release)
		step(time.Second)
		if st, _ := p.Status("a"); st != StatusUp {
			t.Fatalf("after it returned: %v", st)
		}
	})
}

func TestProberJitterSpread(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		var r atomic.Uint64 // 0 → shortest wait: Interval×(1-Jitter)
		p := newTestProber(t, ProberOptions{Interval: 10 * time.Second, Jitter: 0.2,
			Rand: func() uint64 { return r.Load() }})
		defer p.Close()
		pr := &scripted{}
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		step(8*time.Second - time.Nanosecond)
		if n := pr.calls.Load(); n != 1 {
			t.Fatalf("calls before 8s = %d", n)
		}
		r.Store(^uint64(0)) // longest wait: just under 12s
		step(time.Nanosecond)
		if n := pr.calls.Load(); n != 2 {
			t.Fatalf("calls at 8s = %d", n)
		}
		step(11 * time.Second)
		if n := pr.calls.Load(); n != 2 {
			t.Fatalf("calls 11s later = %d", n)
		}
		step(time.Second)
		if n := pr.calls.Load(); n != 3 {
			t.Fatalf("calls 12s later = %d", n)
		}
	})
}

// An Interval near the largest Duration, jittered upwards, used to wrap to
// a negative wait and probe every millisecond.
func TestProberHugeIntervalDoesNotWrap(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		pr := &scripted{}
		p := newTestProber(t, ProberOptions{Interval: time.Duration(1<<63 - 1), Jitter: 0.5, Rand: func() uint64 { return ^uint64(0) }})
		defer p.Close()
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := pr.calls.Load(); n != 1 {
			t.Fatalf("probes in an hour with a ~292y interval: %d", n)
		}
	})
}

func TestProberRemoveAndReAdd(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{})
		defer p.Close()
		ch, unsub := p.Subscribe(8)
		defer unsub()
		pr := &scripted{}
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !p.Remove("a") || p.Remove("a") {
			t.Fatal("Remove results")
		}
		if _, ok := p.Status("a"); ok {
			t.Fatal("status after Remove")
		}
		calls := pr.calls.Load()
		step(5 * time.Second)
		if pr.calls.Load() != calls {
			t.Fatal("probed after Remove")
		}
		pr.fail.Store(true)
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st, _ := p.Status("a"); st != StatusDown {
			t.Fatalf("re-added: %v (state must start afresh)", st)
		}
		got := drain(ch)
		if len(got) != 2 || got[1].From != StatusUnknown || got[1].To != StatusDown {
			t.Fatalf("transitions %+v", got)
		}
	})
}

func TestProberSlowSubscriberCoalesces(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Rise: 1, Fall: 1})
		defer p.Close()
		ch, unsub := p.Subscribe(1)
		defer unsub()
		pr := &scripted{}
		if err := p.Add("a", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // unknown→up is in the channel's buffer
		pr.fail.Store(true)
		step(time.Second) // up→down pending
		pr.fail.Store(false)
		step(time.Second) // down→up: merged into up→up, dropped
		pr.fail.Store(true)
		step(time.Second) // up→down pending again
		got := drain(ch)
		if len(got) != 2 || got[0].To != StatusUp || got[1].From != StatusUp || got[1].To != StatusDown {
			t.Fatalf("got %+v, want unknown→up, up→down", got)
		}
	})
}

// A subscriber that never reads costs memory bounded by the number of
// targets, however often they flap or are replaced (each flap used to add a
// name to the pending order).
func TestProberStalledSubscriberIsBounded(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Rise: 1, Fall: 1})
		defer p.Close()
		_, unsub := p.Subscribe(1) // never read
		defer unsub()
		pr := &scripted{}
		for _, name := range []string{"a", "b"} {
			if err := p.Add(name, pr); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		for i := range 200 {
			pr.fail.Store(i%2 == 0)
			name := fmt.Sprint("tmp", i%3)
			if err := p.Add(name, pr); err != nil {
				t.Fatal(err)
			}
			step(time.Second)
			p.Remove(name)
		}
		p.subMu.Lock()
		defer p.subMu.Unlock()
		for s := range p.subs {
			s.mu.Lock()
			n, m := len(s.order), len(s.pending)
			s.mu.Unlock()
			if n > 2 || m > 2 {
				t.Fatalf("pending: %d names in order, %d entries, for 2 targets", n, m)
			}
		}
	})
}

// A reader far behind many targets still learns the latest status of each.
func TestProberSlowSubscriberManyTargets(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{Rise: 1, Fall: 1})
		defer p.Close()
		ch, unsub := p.Subscribe(1)
		defer unsub()
		const n = 200
		probes := make([]*scripted, n)
		for i := range probes {
			probes[i] = &scripted{}
			if err := p.Add(fmt.Sprint("t", i), probes[i]); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		for round := range 3 { // everything flaps three times while nobody reads
			for _, pr := range probes {
				pr.fail.Store(round%2 == 0)
			}
			step(time.Second)
		}
		last := map[string]Status{}
		for _, tr := range drain(ch) {
			last[tr.Name] = tr.To
		}
		if len(last) != n {
			t.Fatalf("heard of %d targets, want %d", len(last), n)
		}
		for name, st := range last {
			if st != StatusDown {
				t.Fatalf("%s last heard %v, want down", name, st)
			}
		}
	})
}

// Any buffer size is accepted: a huge one used to panic in make.
func TestProberSubscribeBufferBounds(t *testing.T) {
	p := newTestProber(t, ProberOptions{})
	defer p.Close()
	for _, n := range []int{-1, 0, 1, 1 << 62, math.MaxInt} {
		ch, unsub := p.Subscribe(n)
		if c := cap(ch); c < 1 || c > maxSubscribeBuffer {
			t.Errorf("Subscribe(%d): cap %d", n, c)
		}
		unsub()
	}
}

func TestProberClose(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newTestProber(t, ProberOptions{})
		ch, unsub := p.Subscribe(1)
		if err := p.Add("a", &scripted{}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		drain(ch)
		if _, ok := <-ch; ok {
			t.Fatal("channel open after Close")
		}
		unsub()
		unsub()
		if err := p.Add("b", &scripted{}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Add after Close: %v", err)
		}
		late, unsub2 := p.Subscribe(1)
		defer unsub2()
		if _, ok := <-late; ok {
			t.Fatal("Subscribe after Close returned an open channel")
		}
	})
}

func TestProberZeroValue(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := Prober{cfg: ProberOptions{Logger: quiet}}
		defer p.Close()
		if err := p.Add("a", &scripted{}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st, ok := p.Status("a"); !ok || st != StatusUp {
			t.Fatalf("%v %v", st, ok)
		}
	})
}

func TestProberBadInput(t *testing.T) {
	for _, o := range []ProberOptions{{Rise: -1}, {Fall: -2}, {Jitter: 1.5}} {
		if _, err := NewProber(o); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	p := newTestProber(t, ProberOptions{})
	defer p.Close()
	if err := p.Add("", &scripted{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("empty name: %v", err)
	}
	if err := p.Add("x", nil); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("nil probe: %v", err)
	}
	if err := p.Add("x", ProbeFunc(func(context.Context) error { return nil })); err != nil {
		t.Fatal(err)
	}
	if err := p.Add("x", &scripted{}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
}

func TestProberMetrics(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		reader := metric.NewManualReader()
		mp := metric.NewMeterProvider(metric.WithReader(reader))
		p := newTestProber(t, ProberOptions{MeterProvider: mp})
		defer p.Close()
		pr := &scripted{}
		if err := p.Add("db", pr); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		var rm metricdata.ResourceMetrics
		if err := reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		var sawDur, sawTr, sawStatus bool
		for _, sm := range rm.ScopeMetrics {
			if sm.Scope.Name != scope {
				continue
			}
			for _, m := range sm.Metrics {
				switch m.Name {
				case "ladder.health.probe.duration":
					h := m.Data.(metricdata.Histogram[float64])
					sawDur = len(h.DataPoints) == 1 && h.DataPoints[0].Count == 1
				case "ladder.health.probe.status":
					g := m.Data.(metricdata.Gauge[int64])
					sawStatus = len(g.DataPoints) == 1 && g.DataPoints[0].Value == int64(StatusUp)
				case "ladder.health.probe.transitions":
					s := m.Data.(metricdata.Sum[int64])
					if len(s.DataPoints) == 1 && s.DataPoints[0].Value == 1 {
						v, _ := s.DataPoints[0].Attributes.Value(attrStatus)
						sawTr = v.AsString() == "up"
					}
				}
			}
		}
		if !sawDur || !sawTr || !sawStatus {
			t.Fatalf("duration %v transitions %v status %v: %+v", sawDur, sawTr, sawStatus, rm)
		}
	})
}
