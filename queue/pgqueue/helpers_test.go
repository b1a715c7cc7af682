package pgqueue_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

func enqueue(t testing.TB, b *pgqueue.Backend, jobs ...*queue.Job) []string {
	t.Helper()
	res, err := b.Enqueue(ctxT(t), jobs)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ID
	}
	return ids
}

func fetch(t testing.TB, b *pgqueue.Backend, q string, n int, lease time.Duration) []*queue.Job {
	t.Helper()
	jobs, err := b.Fetch(ctxT(t), queue.FetchRequest{Queue: q, Max: n, Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	return jobs
}

func settle(t testing.TB, b *pgqueue.Backend, outs ...queue.Outcome) []error {
	t.Helper()
	errs, err := b.Settle(ctxT(t), outs)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

func job(q string) *queue.Job {
	return &queue.Job{Kind: "k", Queue: q, Args: []byte(`{}`), MaxAttempts: 3, Timeout: time.Minute}
}

// eventually polls cond every 20 ms for up to 10 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var quiet = slog.New(slog.DiscardHandler)
