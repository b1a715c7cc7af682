package shard_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
	"github.com/ladder-go/ladder/shard"
)

func shardsN(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// sortedRows gives shard s the rows s, s+n, s+2n, … (sorted): merged, the
// shards give 0, 1, 2, ….
func sortedRows(n, per int) shard.Query[int] {
	return func(_ context.Context, s int) ([]int, error) {
		rows := make([]int, per)
		for i := range rows {
			rows[i] = s + i*n
		}
		return rows, nil
	}
}

func TestScatterMergeOrdersAcrossShards(t *testing.T) {
	for _, limit := range []int{0, 1, 7, 40, 1000} {
		res, err := shard.Scatter(context.Background(), shardsN(4), sortedRows(4, 10), shard.ScatterOptions{Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		got := res.Merge(cmp.Compare[int], limit)
		want := limit
		if want <= 0 || want > 40 {
			want = 40
		}
		if len(got) != want {
			t.Fatalf("limit %d: %d rows, want %d", limit, len(got), want)
		}
		for i, v := range got {
			if v != i {
				t.Fatalf("limit %d: row %d = %d, want %d (%v)", limit, i, v, i, got)
			}
		}
	}
}

func TestMergeIsStableAndHandlesEmptyParts(t *testing.T) {
	type row struct{ k, part int }
	parts := [][]row{{{1, 0}, {3, 0}}, nil, {{1, 2}, {2, 2}, {3, 2}}, {}}
	got := shard.Merge(parts, func(a, b row) int { return cmp.Compare(a.k, b.k) }, 0)
	want := []row{{1, 0}, {1, 2}, {2, 2}, {3, 0}, {3, 2}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := shard.Merge[int](nil, cmp.Compare[int], 5); len(got) != 0 {
		t.Fatalf("merge of nothing: %v", got)
	}
}

// The merge reads no further into a part than the limit needs: it must not
// compare rows past the limit (a full sort would).
func TestMergeStopsAtLimit(t *testing.T) {
	parts := [][]int{shardsN(1000), shardsN(1000)}
	var calls int
	got := shard.Merge(parts, func(a, b int) int { calls++; return cmp.Compare(a, b) }, 10)
	if !slices.Equal(got, []int{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}) {
		t.Fatalf("got %v", got)
	}
	if calls > 40 {
		t.Fatalf("%d comparisons for 10 rows of 2 parts", calls)
	}
}

func TestConcatKeepsShardOrderAndLimit(t *testing.T) {
	res, err := shard.Scatter(context.Background(), []int{2, 0, 1}, sortedRows(3, 2), shard.ScatterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Concat(0); !slices.Equal(got, []int{2, 5, 0, 3, 1, 4}) {
		t.Fatalf("Concat(0) = %v", got)
	}
	if got := res.Concat(3); !slices.Equal(got, []int{2, 5, 0}) {
		t.Fatalf("Concat(3) = %v", got)
	}
}

func TestScatterRespectsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	q := func(ctx context.Context, s int) ([]int, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		return []int{s}, nil
	}
	res, err := shard.Scatter(context.Background(), shardsN(12), q, shard.ScatterOptions{Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p > 3 {
		t.Fatalf("%d queries ran at once, limit 3", p)
	}
	if len(res.Concat(0)) != 12 {
		t.Fatalf("rows: %v", res.Rows)
	}
}

// A slow shard that outlives the per-shard timeout fails with
// ErrShardTimeout; with Partial the others' rows are kept.
func TestScatterTimesOutASlowShard(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		q := func(ctx context.Context, s int) ([]int, error) {
			if s == 2 {
				<-ctx.Done() // a hung shard that honours ctx
				return nil, ctx.Err()
			}
			return []int{s}, nil
		}
		res, err := shard.Scatter(context.Background(), shardsN(4), q, shard.ScatterOptions{Timeout: time.Second, Partial: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Concat(0); !slices.Equal(got, []int{0, 1, 3}) {
			t.Fatalf("rows %v", got)
		}
		var se *shard.ShardError
		if !errors.As(res.Errs[2], &se) || se.Shard != 2 || !errors.Is(se, shard.ErrShardTimeout) || !errors.Is(se, context.DeadlineExceeded) {
			t.Fatalf("shard 2: %v", res.Errs[2])
		}
		if res.Failed() != 1 || !errors.Is(res.Err(), shard.ErrShardTimeout) {
			t.Fatalf("Failed %d, Err %v", res.Failed(), res.Err())
		}
		onePrefix(t, "timeout", res.Errs[2])
	})
}

// Fail fast: the first failure cancels the queries still running (they
// observe ctx cancelled) and Scatter returns it.
func TestScatterFailFastCancelsOthers(t *testing.T) {
	boom := errors.New("boom")
	var cancelled atomic.Int32
	started := make(chan struct{}, 4)
	q := func(ctx context.Context, s int) ([]int, error) {
		if s == 0 {
			for range 3 {
				<-started // the others are running
			}
			return nil, boom
		}
		started <- struct{}{}
		<-ctx.Done()
		if errors.Is(ctx.Err(), context.Canceled) {
			cancelled.Add(1)
		}
		return nil, ctx.Err()
	}
	res, err := shard.Scatter(context.Background(), shardsN(4), q, shard.ScatterOptions{})
	var se *shard.ShardError
	if !errors.Is(err, boom) || !errors.As(err, &se) || se.Shard != 0 {
		t.Fatalf("err %v, want shard 0's boom", err)
	}
	if n := cancelled.Load(); n != 3 {
		t.Fatalf("%d of 3 running queries saw ctx cancelled", n)
	}
	if res.Failed() != 1 {
		t.Fatalf("cancelled shards reported as failures: %v", res.Errs)
	}
}

// Fail fast with a concurrency limit: shards not yet started never start.
func TestScatterFailFastStartsNoMore(t *testing.T) {
	var ran atomic.Int32
	q := func(ctx context.Context, s int) ([]int, error) {
		ran.Add(1)
		return nil, fmt.Errorf("down %d", s)
	}
	_, err := shard.Scatter(context.Background(), shardsN(50), q, shard.ScatterOptions{Concurrency: 1})
	if err == nil || !strings.Contains(err.Error(), "down 0") {
		t.Fatalf("err %v", err)
	}
	if n := ran.Load(); n > 2 {
		t.Fatalf("%d queries ran after the first failed", n)
	}
}

func TestScatterPartialReportsEachFailure(t *testing.T) {
	q := func(ctx context.Context, s int) ([]int, error) {
		if s%2 == 1 {
			return nil, fmt.Errorf("odd %d", s)
		}
		return []int{s}, nil
	}
	res, err := shard.Scatter(context.Background(), shardsN(6), q, shard.ScatterOptions{Partial: true, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Concat(0); !slices.Equal(got, []int{0, 2, 4}) {
		t.Fatalf("rows %v", got)
	}
	for i, e := range res.Errs {
		if (e != nil) != (i%2 == 1) {
			t.Fatalf("shard %d: err %v", i, e)
		}
	}
	if res.Failed() != 3 {
		t.Fatalf("Failed %d", res.Failed())
	}
}

func TestScatterPanicBecomesError(t *testing.T) {
	for _, partial := range []bool{false, true} {
		q := func(ctx context.Context, s int) ([]int, error) {
			if s == 1 {
				panic("kaboom")
			}
			return []int{s}, nil
		}
		res, err := shard.Scatter(context.Background(), shardsN(3), q, shard.ScatterOptions{Partial: partial})
		if partial {
			err = res.Errs[1]
		}
		if !errors.Is(err, shard.ErrPanic) || !strings.Contains(err.Error(), "kaboom") {
			t.Fatalf("partial %v: err %v", partial, err)
		}
		onePrefix(t, "panic", err)
	}
}

func TestScatterCallerCancelReturnsCtxErr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	q := func(qctx context.Context, s int) ([]int, error) {
		once.Do(cancel)
		<-qctx.Done()
		return nil, qctx.Err()
	}
	for _, partial := range []bool{false, true} {
		_, err := shard.Scatter(ctx, shardsN(3), q, shard.ScatterOptions{Partial: partial})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("partial %v: err %v", partial, err)
		}
	}
}

func TestScatterOptionsValidate(t *testing.T) {
	for _, o := range []shard.ScatterOptions{{Concurrency: -1}, {Timeout: -time.Second}} {
		_, err := shard.Scatter(context.Background(), shardsN(1), sortedRows(1, 1), o)
		if !errors.Is(err, shard.ErrInvalidOptions) {
			t.Fatalf("%+v: %v", o, err)
		}
		onePrefix(t, "options", err)
	}
	if _, err := shard.Scatter[int](context.Background(), shardsN(1), nil, shard.ScatterOptions{}); !errors.Is(err, shard.ErrInvalidOptions) {
		t.Fatalf("nil query: %v", err)
	}
	res, err := shard.Scatter(context.Background(), nil, sortedRows(1, 1), shard.ScatterOptions{})
	if err != nil || len(res.Concat(0)) != 0 {
		t.Fatalf("no shards: %v %v", res, err)
	}
}

func BenchmarkMerge(b *testing.B) {
	const k, per = 8, 1000
	parts := make([][]int, k)
	for s := range parts {
		parts[s] = make([]int, per)
		for i := range parts[s] {
			parts[s][i] = s + i*k
		}
	}
	for _, limit := range []int{100, k * per} {
		b.Run(fmt.Sprintf("k=%d/limit=%d", k, limit), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				shard.Merge(parts, cmp.Compare[int], limit)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*limit), "ns/row")
		})
	}
}

// onePrefix: the message starts with "shard: " and never repeats it.
func onePrefix(t *testing.T, what string, err error) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, "shard: ") || strings.Count(msg, "shard: ") != 1 {
		t.Errorf("%s: %q: want the prefix \"shard: \" once, first", what, msg)
	}
}

func TestMergeWithoutComparisonConcatenates(t *testing.T) {
	got := shard.Merge([][]int{{3, 1}, {2}}, nil, 2)
	if !slices.Equal(got, []int{3, 1}) {
		t.Fatalf("Merge with a nil cmp = %v, want the parts concatenated up to the limit", got)
	}
}
