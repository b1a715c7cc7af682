package pgqueue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/pgqueue"
)

// With every connection of the pool taken, calls end with their ctx
// (never hang, never fail otherwise) and work again once one is free.
func TestExhaustedPoolEndsCallsWithTheirContext(t *testing.T) {
	t.Parallel()
	pg := testenv.Postgres(t)
	pool := openPool(t, pg.DSN, 2)
	b := backendOn(t, pool, pgqueue.Options{})
	enqueue(t, b, job("q"))
	held := fetch(t, b, "q", 1, time.Minute)
	c1, err := pool.Acquire(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	c2, err := pool.Acquire(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(context.Context) error{
		"Enqueue": func(ctx context.Context) error { _, err := b.Enqueue(ctx, []*queue.Job{job("q")}); return err },
		"Fetch": func(ctx context.Context) error {
			_, err := b.Fetch(ctx, queue.FetchRequest{Queue: "q", Max: 1, Lease: time.Minute})
			return err
		},
		"Extend": func(ctx context.Context) error { _, err := b.Extend(ctx, held, time.Minute); return err },
		"Settle": func(ctx context.Context) error {
			_, err := b.Settle(ctx, []queue.Outcome{{Job: held[0], Kind: queue.Release}})
			return err
		},
		"Stats": func(ctx context.Context) error { _, err := b.Stats(ctx, "q"); return err },
		"Wait":  func(ctx context.Context) error { return b.Wait(ctx, "q", time.Hour) },
	}
	for name, call := range calls {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s with the pool exhausted: %v, want context.DeadlineExceeded", name, err)
		}
	}
	c1.Release()
	c2.Release()
	if errs := settle(t, b, queue.Outcome{Job: held[0], Kind: queue.Done}); errs[0] != nil {
		t.Fatalf("Settle once a connection is free: %v", errs[0])
	}
}
