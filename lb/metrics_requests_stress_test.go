package lb_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ladder-go/ladder/lb"
)

// ladder.lb.requests counts exactly the requests each backend received,
// and never goes backwards between two collections, while picks race
// membership updates (same members, a weight change replacing an
// endpoint), ejections and readmissions, and a reader collecting in a loop.
func TestRequestsCounterExactUnderUpdatesAndEjections(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	names := []string{"a", "b", "c", "d"}
	p := newPool(t, backends("a,b,c,d"), lb.PoolOptions{
		MeterProvider: mp, Rand: rand.Uint64,
		Outlier: lb.OutlierOptions{Consecutive: 2, BaseEjectionTime: time.Millisecond, MaxEjectionTime: 2 * time.Millisecond},
	})
	sums(t, reader) // telemetry records from now on

	var received [4]atomic.Int64 // what each backend got
	index := map[string]int{"a": 0, "b": 1, "c": 2, "d": 3}
	stop := make(chan struct{})
	var work sync.WaitGroup
	boom := errors.New("boom")
	for w := range 3 {
		work.Go(func() {
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				v, done, err := p.Pick()
				if err != nil {
					t.Error(err)
					return
				}
				received[index[v]].Add(1)
				var o lb.Outcome
				if v == "b" && (k+w)%3 != 0 {
					o.Err = boom // b keeps being ejected and readmitted
				}
				done(o)
			}
		})
	}
	work.Go(func() {
		for k := 0; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			bs := backends("a,b,c,d")
			if k%2 == 1 {
				bs = backends("a,b,c,d", 1, 1, 2) // c is replaced
			}
			if err := p.Update(bs); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(50 * time.Microsecond)
		}
	})
	prev := map[string]int64{}
	deadline := time.Now().Add(2 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		got := sums(t, reader)["ladder.lb.requests"]
		for _, name := range names {
			if got[name] < prev[name] {
				t.Errorf("collection %d: requests[%s] went back from %d to %d", n, name, prev[name], got[name])
			}
			prev[name] = max(prev[name], got[name])
		}
	}
	close(stop)
	work.Wait()
	got := sums(t, reader)["ladder.lb.requests"]
	for i, name := range names {
		if want := received[i].Load(); got[name] != want {
			t.Errorf("requests[%s] = %d, want %d (the requests it received)", name, got[name], want)
		}
	}
}
