package lb

import (
	"log/slog"
	"runtime"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
)

// The snapshots an Update replaces are read at collections only while a
// pick may still reach them: once garbage, they are folded and forgotten,
// with the endpoints they replaced, so a pool updated all day holds no more
// of them than the garbage collector has not collected yet.
func TestRetiredSnapshotsAreForgotten(t *testing.T) {
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	defer mp.Shutdown(t.Context())
	p, err := NewPool([]Backend[string]{{Name: "a", Value: "a"}, {Name: "b", Value: "b"}},
		PoolOptions{MeterProvider: mp, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for k := range 200 {
		if err := p.Update([]Backend[string]{{Name: "a", Value: "a"}, {Name: "b", Value: "b", Weight: 1 + k%2}}); err != nil {
			t.Fatal(err)
		}
		_, done, _ := p.Pick()
		done(Outcome{})
	}
	left := func() (int, int) {
		p.met.mu.Lock()
		defer p.met.mu.Unlock()
		return len(p.met.retired), len(p.met.replaced)
	}
	for range 100 {
		runtime.GC()
		if r, x := left(); r <= 1 && x <= 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if r, x := left(); r > 1 || x > 1 {
		t.Errorf("after 200 updates and a GC: %d retired snapshots and %d replaced endpoints kept, want at most 1 each", r, x)
	}
	var n uint64
	p.met.mu.Lock()
	p.observeMembers(func(e *Endpoint, picked uint64) { n += p.met.startedLocked(e) + picked })
	p.met.mu.Unlock()
	if n != 200 {
		t.Errorf("requests = %d, want 200", n)
	}
}
