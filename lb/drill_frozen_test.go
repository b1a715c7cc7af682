package lb_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
)

// TestDrillFrozenBackend: one of three backend processes is SIGSTOPped
// (hung, not dead: the kernel still completes its TCP handshakes) under 64
// keep-alive clients, behind a zero-value proxy with default options. It
// must leave rotation and no request may fail.
func TestDrillFrozenBackend(t *testing.T) {
	size := drillLoad(t)
	for run := range size.runs {
		bs := startBackends(t, "plain", 0, 0, 0)
		pool := drillPool(t, bs, lb.PoolOptions{})
		proxy, log := drillProxy(pool)
		l := startLoad(t, serveProxy(t, proxy), size.clients)
		healthy := l.phase(size.phase)
		bs[1].signal(syscall.SIGSTOP)
		t.Cleanup(func() { bs[1].signal(syscall.SIGCONT) })
		left := awaitHealthy(t, pool, 2, 10*time.Second)
		after := l.phase(size.phase)
		l.stop()
		t.Logf("run %d: healthy %.0f req/s; frozen backend out of rotation after %v; then %.0f req/s (%.0f%%); %d answered after >1s",
			run, healthy, left.Round(time.Millisecond), after, 100*after/healthy, l.slow.Load())
		l.failures(t, log)
	}
}

// TestDrillKilledBackend: one of three backend processes is SIGKILLed under
// 64 keep-alive clients behind a zero-value proxy: no request may fail.
// The killed backend answers in 250ms, the others in 50ms, so that about
// two thirds of the clients wait on it when it dies (a struggling backend
// is the one that gets killed), whatever the speed of the machine running
// the drill.
func TestDrillKilledBackend(t *testing.T) {
	size := drillLoad(t)
	for run := range max(size.runs, 3) { // a run used to lose 0-30 requests: one alone could pass by luck
		bs := startBackends(t, "plain", 50*time.Millisecond, 250*time.Millisecond, 50*time.Millisecond)
		pool := drillPool(t, bs, lb.PoolOptions{})
		proxy, log := drillProxy(pool)
		l := startLoad(t, serveProxy(t, proxy), size.clients)
		healthy := l.phase(size.phase)
		bs[1].signal(syscall.SIGKILL)
		after := l.phase(size.phase)
		l.stop()
		t.Logf("run %d: healthy %.0f req/s; after the kill %.0f req/s (%.0f%%)", run, healthy, after, 100*after/healthy)
		l.failures(t, log)
	}
}
