package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/ladder-go/ladder/observe"
)

// An OTLP collector that takes each export and never answers: Shutdown
// under a 200 ms ctx returns by then, and the exports it started (the
// final span batch, the last metric push) are aborted, not left running
// in the background until the exporters' own timeouts (10 s, then 30 s for
// the batch processor's).
func TestSetupShutdownAbortsExportsToAHungCollector(t *testing.T) {
	cleanEnv(t)
	release := make(chan struct{})
	var got sync.WaitGroup
	got.Add(1)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(got.Done)
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
	_, span := tel.TracerProvider.Tracer("test").Start(context.Background(), "work")
	span.End()
	c, _ := tel.MeterProvider.Meter("test").Int64Counter("ladder.test.hung")
	c.Add(context.Background(), 1)
	// An export in flight before Shutdown: a flush that hangs.
	go func() { _ = tel.TracerProvider.ForceFlush(context.Background()) }()
	got.Wait()

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tel.Shutdown(ctx)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Shutdown took %v with a 200ms ctx", took)
	}
	if err == nil {
		t.Error("Shutdown reported success though the collector took nothing")
	}
	// The collector still holds its handlers; no exporter goroutine (HTTP
	// request, connection, batch processor) may be left on our side.
	goleak.VerifyNone(t, before,
		goleak.IgnoreAnyFunction("net/http.(*conn).serve"),
		goleak.IgnoreAnyFunction("net/http.(*connReader).backgroundRead"),
		goleak.IgnoreAnyFunction("github.com/ladder-go/ladder/observe_test.TestSetupShutdownAbortsExportsToAHungCollector.func1"),
	)
}
