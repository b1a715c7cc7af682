package lb_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/lb"
)

func TestUpdateKeepsHealthState(t *testing.T) {
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{})
	p.SetDown("a", true)
	fail(t, p, "b", 5, lb.Outcome{Status: 503})
	if h, _ := p.Healthy(); h != 2 {
		t.Fatalf("healthy %d, want 2", h)
	}
	if err := p.Update(backends("a,b,c,d", 2, 2, 1, 1)); err != nil {
		t.Fatal(err)
	}
	if h, _ := p.Healthy(); h != 2 {
		t.Errorf("after a weight change %d healthy, want 2: a down and b ejected", h)
	}
	if n := count(t, p, 100); n["a"]+n["b"] != 0 {
		t.Errorf("picks %v: a is down and b ejected", n)
	}
}

func TestNilAndZeroPool(t *testing.T) {
	var nilPool *lb.Pool[string]
	if err := nilPool.Close(); err != nil {
		t.Error(err)
	}
	if _, _, err := nilPool.Pick(); err != lb.ErrNoBackend {
		t.Error(err)
	}
	if nilPool.SetDown("a", true) {
		t.Error("nil pool has a backend")
	}
	zero := &lb.Pool[string]{}
	if err := zero.Close(); err != nil {
		t.Error(err)
	}
	if _, _, err := zero.PickKey("k"); err != lb.ErrNoBackend {
		t.Error(err)
	}
	if err := zero.Update(backends("a")); err == nil {
		t.Error("zero pool accepted Update")
	}
}

func TestUpdateDuringPicks(t *testing.T) {
	for _, pol := range []lb.Policy{lb.RoundRobin(), lb.WeightedRoundRobin(), lb.LeastRequest(), lb.PeakEWMA(lb.PeakEWMAOptions{}), lb.Hash(lb.HashOptions{RendezvousMax: 2}), lb.Random()} {
		p := newPool(t, backends("a,b,c"), lb.PoolOptions{Policy: pol, MaxInFlight: 2, Zones: []string{"z"}, Rand: rand.Uint64})
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					_, done, err := p.PickKey(fmt.Sprint(i))
					if err == nil {
						done(lb.Outcome{Status: 500 * (i % 2), Latency: 1})
					}
				}
			})
		}
		sets := []string{"a,b,c", "a", "", "b,c,d,e", "a,b,c,d,e,f,g"}
		for i := range 50 {
			bs := []lb.Backend[string]{}
			if s := sets[i%len(sets)]; s != "" {
				bs = backends(s, 1+i%3, math.MaxInt32, 0)
			}
			if err := p.Update(bs); err != nil {
				t.Fatal(err)
			}
		}
		close(stop)
		wg.Wait()
		p.Update(backends("a,b,c"))
		for _, e := range p.Endpoints() {
			if e.InFlight() != 0 {
				t.Errorf("%T: %s InFlight %d after all done", pol, e.Name(), e.InFlight())
			}
		}
	}
}

func TestHugeWeights(t *testing.T) {
	for _, pol := range []lb.Policy{lb.RoundRobin(), lb.WeightedRoundRobin(), lb.LeastRequest(), lb.PeakEWMA(lb.PeakEWMAOptions{}), lb.Hash(lb.HashOptions{}), lb.Random(), lb.FirstAvailable()} {
		p := newPool(t, backends("a,b,c", math.MaxInt, 1, math.MaxInt/3), lb.PoolOptions{Policy: pol})
		got := count(t, p, 300)
		if got["a"] == 0 {
			t.Errorf("%T: %v", pol, got)
		}
	}
}

// silentSource is a HealthSource whose unsubscribe does not close the channel.
type silentSource struct{ ch chan health.Transition }

func (s silentSource) Subscribe(int) (<-chan health.Transition, func()) { return s.ch, func() {} }

func (s silentSource) Status(string) (health.Status, bool) { return health.StatusUnknown, false }

func TestCloseDoesNotWaitForAForeignHealthSource(t *testing.T) {
	p := newPool(t, backends("a,b"), lb.PoolOptions{})
	p.Watch(silentSource{ch: make(chan health.Transition)})
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs on a source whose unsubscribe keeps the channel open")
	}
}

// msgs is a slog handler recording messages.
type msgs struct {
	mu  sync.Mutex
	got []string
}

func (m *msgs) Enabled(context.Context, slog.Level) bool { return true }

func (m *msgs) Handle(_ context.Context, r slog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, r.Message)
	return nil
}

func (m *msgs) WithAttrs([]slog.Attr) slog.Handler { return m }

func (m *msgs) WithGroup(string) slog.Handler { return m }

func TestTimersStopAtClose(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		log := &msgs{}
		p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{Logger: slog.New(log),
			SlowStart: lb.SlowStartOptions{Window: time.Minute}})
		fail(t, p, "a", 5, lb.Outcome{Status: 503})
		// A weight change moves the ejection to a new endpoint.
		if err := p.Update(backends("a,b,c,d,e", 2)); err != nil {
			t.Fatal(err)
		}
		p.Close()
		time.Sleep(time.Hour)
		synctest.Wait()
		log.mu.Lock()
		defer log.mu.Unlock()
		for _, m := range log.got {
			if strings.Contains(m, "readmitted") {
				t.Errorf("after Close: %q", m)
			}
		}
		if h, n := p.Healthy(); h != 4 || n != 5 {
			t.Errorf("Healthy() = %d/%d after Close, want the last snapshot's 4/5", h, n)
		}
	})
}
