package lb_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
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

// Through Proxy, with retries (a backend answering 503 half the time),
// sticky clients, membership updates and a reader collecting in a loop,
// ladder.lb.requests ends equal to what each backend received and never
// goes backwards.
func TestProxyRequestsCounterExactUnderUpdates(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	var flip atomic.Int64
	bs, counts, _ := countingBackends(t, 3, func(i int) int {
		if i == 1 && flip.Add(1)%2 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}, nil)
	pool, err := lb.NewPool(bs, lb.PoolOptions{MeterProvider: mp, Logger: quiet, Rand: rand.Uint64,
		Outlier: lb.OutlierOptions{Consecutive: -1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	sums(t, reader)
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet,
		Retry:  lb.RetryOptions{Budget: 1, MinRetries: 1 << 20, RetryStatus: func(s int) bool { return s == 503 }},
		Sticky: &lb.StickyOptions{Insecure: true}})
	stop := make(chan struct{})
	var work sync.WaitGroup
	for w := range 4 {
		work.Go(func() {
			client := front.Client()
			var cookie *http.Cookie
			for {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest(http.MethodGet, front.URL, nil)
				if cookie != nil {
					req.AddCookie(cookie)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if w%2 == 0 && len(resp.Cookies()) > 0 {
					cookie = resp.Cookies()[0] // sticky from now on
				}
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
			next := slices.Clone(bs)
			next[2].Weight = 1 + k%2 // c is replaced
			if err := pool.Update(next); err != nil {
				t.Error(err)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	})
	prev := map[string]int64{}
	deadline := time.Now().Add(2 * time.Second)
	for n := 0; time.Now().Before(deadline); n++ {
		got := sums(t, reader)["ladder.lb.requests"]
		for name, v := range got {
			if v < prev[name] {
				t.Errorf("collection %d: requests[%s] went back from %d to %d", n, name, prev[name], v)
			}
			prev[name] = max(prev[name], v)
		}
	}
	close(stop)
	work.Wait()
	got := sums(t, reader)["ladder.lb.requests"]
	for i, b := range bs {
		if want := counts[i].Load(); got[b.Name] != want {
			t.Errorf("requests[%s] = %d, want %d (the requests it received)", b.Name, got[b.Name], want)
		}
	}
}
