package lb_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/ladder-go/ladder/lb"
)

// A client that cancels while its keyed body is being buffered gets its
// RoundTrip back, as http.Transport gives it back while it sends a body:
// buffering for the replay must not wait on a body that never ends.
func TestTransportKeyedBodyBufferingEndsOnCancel(t *testing.T) {
	tr, bs := keyedTransport(t, lb.RetryOptions{IdempotencyKeyHeader: "Idempotency-Key"})
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://svc/x", pr)
	req.Header.Set("Idempotency-Key", "k")
	done := make(chan error, 1)
	go func() {
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if _, err := pw.Write([]byte("a slow upload")); err != nil { // the buffering has started
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("RoundTrip: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second): // a hang, not a timing
		pw.CloseWithError(errors.New("test over"))
		<-done
		t.Fatal("RoundTrip still buffering the body after its request was cancelled")
	}
	if n := bs[0].Hits.Load() + bs[1].Hits.Load(); n != 0 {
		t.Errorf("backends hit %d times by a cancelled request", n)
	}
}
