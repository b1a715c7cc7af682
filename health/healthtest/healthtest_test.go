package healthtest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/health/healthtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestProbe(t *testing.T) {
	var p healthtest.Probe
	if err := p.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.SetHealthy(false)
	if err := p.Probe(context.Background()); !errors.Is(err, healthtest.ErrUnhealthy) {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	p.SetErr(boom)
	if err := p.Probe(context.Background()); err != boom {
		t.Fatal(err)
	}
	p.SetHealthy(true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Probe(ctx); !errors.Is(err, context.Canceled) || p.Calls() != 4 {
		t.Fatal(err, p.Calls())
	}
}

func TestBreaker(t *testing.T) {
	var b healthtest.Breaker
	boom := errors.New("boom")
	if err := health.Do(context.Background(), &b, func(context.Context) error { return boom }); err != boom {
		t.Fatal(err)
	}
	b.SetState(health.BreakerOpen)
	if err := health.Do(context.Background(), &b, func(context.Context) error { return nil }); !errors.Is(err, health.ErrOpen) {
		t.Fatal(err)
	}
	if out := b.Outcomes(); len(out) != 1 || out[0] != boom || b.Rejections() != 1 || b.State() != health.BreakerOpen {
		t.Fatalf("%v %d %v", out, b.Rejections(), b.State())
	}
}

// A Server behind a real Prober: the prober follows the flipped endpoint.
func TestServerWithProber(t *testing.T) {
	s := healthtest.NewServer(t)
	p, err := health.NewProber(health.ProberOptions{Interval: 5 * time.Millisecond, Rise: 1, Fall: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	events, unsub := p.Subscribe(8)
	defer unsub()
	probe, err := health.HTTPProbe(s.HealthURL(), health.HTTPProbeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Add("s", probe); err != nil {
		t.Fatal(err)
	}
	expect := func(to health.Status) {
		t.Helper()
		select {
		case tr := <-events:
			if tr.To != to {
				t.Fatalf("%+v, want %v", tr, to)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no transition to %v", to)
		}
	}
	expect(health.StatusUp)
	s.SetHealthy(false)
	expect(health.StatusDown)
	s.SetHealthy(true)
	expect(health.StatusUp)
	resp, err := s.Client().Get(s.URL + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s.Client().CloseIdleConnections()
	if s.Hits() != 1 {
		t.Fatalf("hits %d", s.Hits())
	}
}
