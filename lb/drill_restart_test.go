package lb_test

import (
	"testing"
	"time"

	"github.com/ladder-go/ladder/health"
	"github.com/ladder-go/ladder/lb"
)

// rollingRestart restarts each backend in turn under load: SIGTERM, wait
// for the process to exit, start a new one on the same port, and wait
// until the pool has all backends in rotation again before the next.
func rollingRestart(t *testing.T, bs []*backendProc, pool interface{ Healthy() (int, int) }) []time.Duration {
	t.Helper()
	var back []time.Duration
	for _, b := range bs {
		b.restart()
		start := time.Now()
		for {
			if h, n := pool.Healthy(); h == n {
				break
			}
			if time.Since(start) > 20*time.Second {
				h, n := pool.Healthy()
				t.Fatalf("restarted backend still out of rotation after 20s (%d/%d healthy)", h, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		back = append(back, time.Since(start).Round(time.Millisecond))
	}
	return back
}

// TestDrillRollingRestartGraceful: backends that merely shut down
// gracefully (http.Server.Shutdown on SIGTERM) behind a zero-config proxy
// (no active health) are restarted one by one under 64 keep-alive clients:
// no request may fail, and each restarted backend comes back into rotation.
func TestDrillRollingRestartGraceful(t *testing.T) {
	size := drillLoad(t)
	for run := range size.runs {
		bs := startBackends(t, "graceful", 0, 0, 0)
		pool := drillPool(t, bs, lb.PoolOptions{})
		proxy, log := drillProxy(pool)
		l := startLoad(t, serveProxy(t, proxy), size.clients)
		l.phase(size.phase / 2)
		back := rollingRestart(t, bs, pool)
		l.phase(size.phase / 2)
		l.stop()
		t.Logf("run %d: %d requests, back in rotation after %v", run, l.ok.Load(), back)
		l.failures(t, log)
	}
}

// TestDrillRollingRestartDrain: backends running health.Drain with its
// default timings behind a proxy whose pool follows ProbeHTTP with a
// default Prober are restarted one by one under 64 keep-alive clients: no
// request may fail.
func TestDrillRollingRestartDrain(t *testing.T) {
	size := drillLoad(t)
	for run := range size.runs {
		bs := startBackends(t, "drain", 0, 0, 0)
		pool := drillPool(t, bs, lb.PoolOptions{})
		prober, err := health.NewProber(health.ProberOptions{Logger: quietLogger})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { prober.Close() })
		stop, err := lb.ProbeHTTP(pool, prober, "/ready", health.HTTPProbeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		proxy, log := drillProxy(pool)
		l := startLoad(t, serveProxy(t, proxy), size.clients)
		l.phase(size.phase / 2)
		back := rollingRestart(t, bs, pool)
		l.phase(size.phase / 2)
		l.stop()
		t.Logf("run %d: %d requests, back in rotation after %v", run, l.ok.Load(), back)
		l.failures(t, log)
	}
}
