package lb_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/lb"
)

var errBoom = errors.New("boom")

// fail reports n failures on backend name, picking until it comes up.
func fail(t *testing.T, p *lb.Pool[string], name string, n int, o lb.Outcome) {
	t.Helper()
	for sent, tries := 0, 0; sent < n; tries++ {
		if tries > 10000 {
			t.Fatalf("%s never picked", name)
		}
		v, done, err := p.Pick()
		if err != nil {
			t.Fatal(err)
		}
		if v == name {
			done(o)
			sent++
		} else {
			done(lb.Outcome{Status: 200})
		}
	}
}

func picks(t *testing.T, p *lb.Pool[string], name string) int {
	return count(t, p, 300)[name]
}

func TestOutlierEjectionAndReadmission(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{})
		fail(t, p, "a", 4, lb.Outcome{Status: 503})
		if h, _ := p.Healthy(); h != 4 {
			t.Fatal("ejected after 4 failures, want 5")
		}
		fail(t, p, "a", 1, lb.Outcome{Status: 503})
		if n := picks(t, p, "a"); n != 0 {
			t.Fatalf("a got %d picks after 5 consecutive 5xx", n)
		}
		if h, n := p.Healthy(); h != 3 || n != 4 {
			t.Errorf("Healthy() = %d/%d, want 3/4", h, n)
		}
		time.Sleep(30*time.Second - time.Millisecond)
		if picks(t, p, "a") != 0 {
			t.Fatal("readmitted before 30s")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if picks(t, p, "a") == 0 {
			t.Fatal("not readmitted after 30s")
		}
		// Second ejection lasts twice as long.
		fail(t, p, "a", 5, lb.Outcome{Err: errBoom})
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if picks(t, p, "a") != 0 {
			t.Fatal("second ejection shorter than 60s")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if picks(t, p, "a") == 0 {
			t.Fatal("not readmitted after 60s")
		}
	})
}

func TestSuccessResetsConsecutive(t *testing.T) {
	p := newPool(t, backends("a,b"), lb.PoolOptions{})
	for range 10 {
		fail(t, p, "a", 4, lb.Outcome{Err: errBoom})
		fail(t, p, "a", 1, lb.Outcome{Status: 200})
	}
	if h, _ := p.Healthy(); h != 2 {
		t.Errorf("ejected on non-consecutive failures")
	}
}

func TestCancellationIsNotFailure(t *testing.T) {
	p := newPool(t, backends("a,b"), lb.PoolOptions{})
	fail(t, p, "a", 20, lb.Outcome{Err: errors.Join(errBoom, errCanceled())})
	if h, _ := p.Healthy(); h != 2 {
		t.Errorf("cancelled requests ejected a backend")
	}
}

func errCanceled() error {
	ctx, cancel := contextWithCancel()
	cancel()
	return ctx.Err()
}

func TestMaxEjectedShare(t *testing.T) {
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{PanicThreshold: -1})
	for _, name := range []string{"a", "b", "c"} {
		fail(t, p, name, 5, lb.Outcome{Status: 500})
	}
	if h, _ := p.Healthy(); h != 2 {
		t.Errorf("healthy %d, want 2: at most half may be ejected", h)
	}
}

func TestPanicThreshold(t *testing.T) {
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{})
	p.SetDown("a", true)
	p.SetDown("b", true)
	if got := count(t, p, 400); got["a"] != 0 || got["b"] != 0 {
		t.Fatalf("half healthy is not panic, got %v", got)
	}
	p.SetDown("c", true)
	if got := count(t, p, 400); got["a"] != 100 || got["d"] != 100 {
		t.Errorf("panic mode should spread over all, got %v", got)
	}
	p.SetDown("c", false)
	if got := count(t, p, 400); got["a"] != 0 || got["c"] != 200 {
		t.Errorf("after recovery got %v", got)
	}
	if p.SetDown("zz", true) {
		t.Error("SetDown on unknown backend reported true")
	}
}

func TestAllDownWithoutPanicIsNoBackend(t *testing.T) {
	p := newPool(t, backends("a"), lb.PoolOptions{PanicThreshold: -1})
	p.SetDown("a", true)
	if _, _, err := p.Pick(); !errors.Is(err, lb.ErrNoBackend) {
		t.Errorf("all down: %v", err)
	}
}

func TestSlowStart(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newPool(t, backends("a,b"), lb.PoolOptions{
			Policy:    lb.WeightedRoundRobin(),
			SlowStart: lb.SlowStartOptions{Window: 100 * time.Second},
		})
		p.SetDown("b", true)
		p.SetDown("b", false)
		// b ramps from 10% of its weight to 100% over the window.
		share := func() float64 { return float64(count(t, p, 2200)["b"]) / 2200 }
		near(t, "b share at 0s", share(), 0.1/1.1, 0.01)
		time.Sleep(50 * time.Second)
		synctest.Wait()
		near(t, "b share at 50s", share(), 0.5/1.5, 0.01)
		time.Sleep(50 * time.Second)
		synctest.Wait()
		near(t, "b share at 100s", share(), 0.5, 0.01)
	})
}

func TestSlowStartOnJoin(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		p := newPool(t, backends("a"), lb.PoolOptions{
			Policy:    lb.LeastRequest(),
			SlowStart: lb.SlowStartOptions{Window: 10 * time.Second, MinWeight: 0.2},
		})
		if err := p.Update(backends("a,b")); err != nil {
			t.Fatal(err)
		}
		near(t, "new b share", float64(count(t, p, 12000)["b"])/12000, 0.2/1.2, 0.02)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		near(t, "b share after the window", float64(count(t, p, 12000)["b"])/12000, 0.5, 0.02)
	})
}
