package shard_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/shard"
)

// A shard whose query ignores its ctx (a driver call without a context, a
// hung host) must not hang the whole scatter: the per-shard Timeout and
// the caller's ctx bound Scatter, the hung shard fails with
// ErrShardTimeout (or Scatter returns ctx.Err()), and the other shards'
// rows are kept.
func TestScatterReturnsWhenAQueryIgnoresCtx(t *testing.T) {
	release := make(chan struct{})
	returned := make(chan struct{}, 8)
	var hung atomic.Int32
	t.Cleanup(func() {
		close(release)
		for range hung.Load() { // the hung queries, released, return (goleak)
			<-returned
		}
	})
	q := func(_ context.Context, s int) ([]int, error) {
		if s == 1 {
			hung.Add(1)
			<-release // ignores ctx
			returned <- struct{}{}
			return []int{-1}, nil
		}
		return []int{s}, nil
	}
	type outcome struct {
		res *shard.Results[int]
		err error
	}
	run := func(ctx context.Context, o shard.ScatterOptions) outcome {
		done := make(chan outcome, 1)
		go func() {
			res, err := shard.Scatter(ctx, shardsN(3), q, o)
			done <- outcome{res, err}
		}()
		select {
		case out := <-done:
			return out
		case <-time.After(30 * time.Second):
			t.Fatalf("Scatter %+v did not return 30s after the hung shard's deadline", o)
			return outcome{}
		}
	}

	out := run(context.Background(), shard.ScatterOptions{Timeout: 20 * time.Millisecond, Partial: true})
	if out.err != nil {
		t.Fatalf("partial: %v", out.err)
	}
	if !errors.Is(out.res.Errs[1], shard.ErrShardTimeout) || out.res.Failed() != 1 {
		t.Errorf("partial: errors %v, want shard 1 timed out", out.res.Errs)
	}
	if got := out.res.Concat(0); len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Errorf("partial: rows %v, want [0 2]", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	out = run(ctx, shard.ScatterOptions{})
	if !errors.Is(out.err, context.DeadlineExceeded) {
		t.Errorf("caller's ctx expired: %v, want context.DeadlineExceeded", out.err)
	}
}
