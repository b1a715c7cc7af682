package lb_test

import (
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/ladder-go/ladder/lb"
	"github.com/ladder-go/ladder/lb/lbtest"
)

// Tries abandoned on a hung backend while the next try runs elsewhere: every
// client span started is ended exactly once (none leaked, none ended
// twice), the abandoned ones as errors of type timeout, the served ones
// with resend_count on retries.
func TestProxyClientSpansOfTriesAbandonedOnAHungBackend(t *testing.T) {
	tp, rec := newTracer(t)
	bs := lbtest.Start(t, 2)
	release := make(chan struct{})
	defer close(release)
	bs[0].Handle(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	pool := lbtest.Pool(t, bs, lb.PoolOptions{Logger: quiet, Outlier: lb.OutlierOptions{Consecutive: -1}})
	front := serve(t, &lb.Proxy{Pool: pool, Logger: quiet, TracerProvider: tp,
		Retry: lb.RetryOptions{StallTimeout: 30 * time.Millisecond}})
	client := front.Client()
	client.Timeout = 10 * time.Second
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 5 {
				resp, err := client.Get(front.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	started := 0
	for _, s := range rec.Started() {
		if s.SpanKind() == trace.SpanKindClient {
			started++
		}
	}
	ended := clientSpans(rec)
	seen := map[trace.SpanID]bool{}
	abandoned := 0
	for _, s := range ended {
		if seen[s.SpanContext().SpanID()] {
			t.Errorf("span %v ended twice", s.SpanContext().SpanID())
		}
		seen[s.SpanContext().SpanID()] = true
		if s.Status().Code == codes.Error {
			abandoned++
			if v, _ := attrOf(s, "error.type"); v.AsString() != "timeout" {
				t.Errorf("abandoned try's error.type %q, want timeout", v.AsString())
			}
		}
	}
	if started != len(ended) {
		t.Errorf("%d client spans started, %d ended", started, len(ended))
	}
	if len(ended)-abandoned != 20 {
		t.Errorf("%d spans of served tries, want 20", len(ended)-abandoned)
	}
	if abandoned == 0 {
		t.Error("no try was abandoned on the hung backend")
	}
}
