package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/observe"
)

// Shutdown called with a ctx already expired, twice at once, with spans and
// metrics pending for a collector that never answers: both calls return
// promptly with the same error, nothing of the exporters is left running
// (the SDK's TracerProvider.Shutdown, given a done ctx, returns before it
// stops any span processor: the batch processor's goroutine stayed for the
// life of the process), and no export reaches the collector after they
// return.
func TestSetupShutdownWithExpiredContextTwiceAtOnce(t *testing.T) {
	cleanEnv(t)
	var after atomic.Bool
	var late atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if after.Load() {
			late.Add(1)
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	before := goleak.IgnoreCurrent() // the collector's accept loop
	tel, err := observe.Setup(context.Background(), observe.SetupOptions{OTLPEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "work")
		span.End()
	}
	c, _ := tel.MeterProvider.Meter("test").Int64Counter("ladder.test.expired")
	c.Add(context.Background(), 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Go(func() { errs[i] = tel.Shutdown(ctx) })
	}
	wg.Wait()
	after.Store(true)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Shutdown with an expired ctx took %v", took)
	}
	if errs[0] == nil || errs[0] != errs[1] {
		t.Errorf("Shutdown errors %v and %v: want the same, not nil", errs[0], errs[1])
	}
	goleak.VerifyNone(t, before,
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
		goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"),
		goleak.IgnoreAnyFunction("github.com/ladder-go/ladder/observe_test.TestSetupShutdownWithExpiredContextTwiceAtOnce.func1"),
		// A dial the aborted export started finishes into the OTLP
		// exporters' shared transport's idle pool (no request is sent; it
		// closes with the collector, or after the idle timeout).
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
	)
	if n := late.Load(); n != 0 {
		t.Errorf("%d exports reached the collector after Shutdown returned", n)
	}
}
