package shard

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

var (
	// ErrPanic is wrapped by the error of a per-shard function (a scatter
	// query) that panicked; the message carries the panic value and stack.
	ErrPanic = errors.New("shard: panic in a per-shard function")
	// ErrShardTimeout is wrapped by the error of a shard that did not answer
	// within ScatterOptions.Timeout (with context.DeadlineExceeded).
	ErrShardTimeout = errors.New("shard: shard timed out")
)

// Query asks one shard (by number) for its rows. It must return when ctx is
// done: Scatter waits for every query it started, but for at most a second
// after its ctx ended; a query still running then is abandoned (its shard
// fails, it is left to finish in its goroutine and its result is dropped).
type Query[T any] func(ctx context.Context, shard int) ([]T, error)

// ScatterOptions configures Scatter. The zero value runs every shard at
// once, with no per-shard timeout beyond ctx, and fails fast.
type ScatterOptions struct {
	// Concurrency bounds the queries running at once. Zero: all the shards
	// asked. Negative: an error.
	Concurrency int
	// Timeout bounds each shard's query (its ctx expires after it), so that
	// one slow shard costs at most Timeout. Zero: only ctx bounds a query.
	// Negative: an error.
	Timeout time.Duration
	// Partial keeps going when a shard fails: every shard is asked, the
	// results of those that answered are kept, and each failure is reported
	// in Results.Errs. False (fail fast): the first failure cancels the
	// queries still running (their ctx is cancelled), queries not yet started
	// never start, and Scatter returns that failure.
	Partial bool
}

// Validate reports a negative Concurrency or Timeout.
func (o ScatterOptions) Validate() error {
	if o.Concurrency < 0 {
		return fmt.Errorf("%w: ScatterOptions.Concurrency %d: must be ≥ 0", ErrInvalidOptions, o.Concurrency)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("%w: ScatterOptions.Timeout %v: must be ≥ 0", ErrInvalidOptions, o.Timeout)
	}
	return nil
}

// ShardError is the failure of one shard's query.
type ShardError struct {
	Shard int   // the shard's number
	Err   error // what the query returned (or ErrPanic, ErrShardTimeout)
}

func (e *ShardError) Error() string {
	return fmt.Sprintf("shard: shard %d: %s", e.Shard, strings.TrimPrefix(e.Err.Error(), "shard: "))
}

func (e *ShardError) Unwrap() error { return e.Err }

// Results holds what each shard asked of Scatter answered, in the order the
// shards were given.
type Results[T any] struct {
	Shards []int   // the shards asked, as given
	Rows   [][]T   // Rows[i]: the rows of Shards[i]; nil where it failed
	Errs   []error // Errs[i]: the *ShardError of Shards[i], or nil
}

// Err joins the per-shard errors (nil when every shard answered).
func (r *Results[T]) Err() error { return errors.Join(r.Errs...) }

// Failed counts the shards that did not answer.
func (r *Results[T]) Failed() int {
	n := 0
	for _, e := range r.Errs {
		if e != nil {
			n++
		}
	}
	return n
}

// Concat returns every shard's rows one shard after another, at most limit
// of them (limit ≤ 0: all).
func (r *Results[T]) Concat(limit int) []T {
	return Concat(r.Rows, limit)
}

// Merge returns the rows of all shards in cmp order, at most limit of them
// (limit ≤ 0: all), by a k-way merge: each shard's rows must already be
// sorted by cmp (ORDER BY on each shard, with LIMIT limit), and the merge
// stops at the limit without sorting the whole.
func (r *Results[T]) Merge(cmp func(a, b T) int, limit int) []T {
	return Merge(r.Rows, cmp, limit)
}

// AllShards returns the numbers of every shard of m, 0…n-1, for Scatter.
func AllShards(m *Map) []int {
	s := make([]int, m.Len())
	for i := range s {
		s[i] = i
	}
	return s
}

// Scatter runs q on each of shards concurrently (at most
// opts.Concurrency at once, each bounded by opts.Timeout) and gathers their
// rows. A query that panics fails its shard with ErrPanic.
//
// Fail fast (the default): the first shard to fail cancels the others and
// Scatter returns its *ShardError (with the results gathered so far).
// Partial: Scatter returns every answer with the failures in Results.Errs
// and a nil error. Either way, when ctx ends first Scatter returns
// ctx.Err(). Scatter returns once every query it started has returned or
// been abandoned (a second after its ctx ended: see [Query]), so a shard
// that hangs costs at most Timeout (or ctx's deadline) plus a second.
func Scatter[T any](ctx context.Context, shards []int, q Query[T], opts ScatterOptions) (*Results[T], error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if q == nil {
		return nil, fmt.Errorf("%w: nil Query", ErrInvalidOptions)
	}
	res := &Results[T]{
		Shards: shards,
		Rows:   make([][]T, len(shards)),
		Errs:   make([]error, len(shards)),
	}
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	limit := opts.Concurrency
	if limit == 0 || limit > len(shards) {
		limit = len(shards)
	}
	if limit > 0 {
		g.SetLimit(limit)
	}
	var failed error // the first failure, fail fast; read after Wait
	var once = make(chan struct{}, 1)
	for i, s := range shards {
		if !opts.Partial && gctx.Err() != nil {
			break // a shard failed (or ctx ended): start no more
		}
		g.Go(func() error {
			if !opts.Partial && gctx.Err() != nil {
				return nil
			}
			rows, err := runOne(gctx, s, q, opts.Timeout)
			if err == nil {
				res.Rows[i] = rows
				return nil
			}
			if ctx.Err() != nil {
				return nil // the caller's ctx ended: reported below, not as a shard failure
			}
			if !opts.Partial && gctx.Err() != nil && errors.Is(err, context.Canceled) {
				return nil // cancelled because another shard failed first
			}
			se := &ShardError{Shard: s, Err: err}
			res.Errs[i] = se
			if !opts.Partial {
				select {
				case once <- struct{}{}:
					failed = se
					cancel()
				default:
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if failed != nil {
		return res, failed
	}
	return res, nil
}

// abandonAfter is how long Scatter waits for a query to return once its
// ctx has ended before it gives up on it.
const abandonAfter = time.Second

type queryResult[T any] struct {
	rows []T
	err  error
}

// runOne runs q for one shard under its timeout, turning a panic into
// ErrPanic and an expired per-shard deadline into ErrShardTimeout. A query
// that has not returned abandonAfter after its ctx ended (it ignores ctx)
// is abandoned: it fails with its ctx's error and is left to finish in its
// own goroutine, its result dropped, so that one hung shard cannot hang
// the scatter.
func runOne[T any](ctx context.Context, s int, q Query[T], timeout time.Duration) (rows []T, err error) {
	sctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	done := make(chan queryResult[T], 1)
	go func() {
		var r queryResult[T]
		defer func() {
			if p := recover(); p != nil {
				r = queryResult[T]{err: fmt.Errorf("%w: %v\n%s", ErrPanic, p, debug.Stack())}
			}
			done <- r
		}()
		r.rows, r.err = q(sctx, s)
	}()
	var r queryResult[T]
	select {
	case r = <-done:
	case <-sctx.Done():
		t := time.NewTimer(abandonAfter)
		select {
		case r = <-done:
		case <-t.C:
			r = queryResult[T]{err: fmt.Errorf("query did not return %v after its ctx ended (abandoned): %w", abandonAfter, sctx.Err())}
		}
		t.Stop()
	}
	rows, err = r.rows, r.err
	if err != nil && timeout > 0 && ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w after %v: %w", ErrShardTimeout, timeout, err)
	}
	return rows, err
}
