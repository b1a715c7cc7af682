package queuetest

import (
	"math"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
)

// testRateExtremes: rates and limits at the ends of their ranges. A rate so
// high it is no bound lets jobs through, a tiny period neither divides by
// zero nor spins, a huge Limit is no limit, and Wait still returns.
func testRateExtremes(t *testing.T, e *env) {
	for i, tc := range []struct {
		name  string
		limit int
		rate  queue.Rate
		want  int
	}{
		{"N=MaxInt", 0, queue.Rate{N: math.MaxInt, Per: time.Second}, 5},
		{"Burst=MaxInt", 0, queue.Rate{N: 1, Per: time.Second, Burst: math.MaxInt}, 5},
		{"N=MaxInt,Per=1ns", 0, queue.Rate{N: math.MaxInt, Per: 1}, 5},
		{"N=1,Per=1ns", 0, queue.Rate{N: 1, Per: 1}, 1},
		{"N=1,Per=MaxInt64", 0, queue.Rate{N: 1, Per: math.MaxInt64}, 1},
		{"Limit=MaxInt", math.MaxInt, queue.Rate{}, 5},
	} {
		q := e.other(string(rune('a' + i)))
		for range 5 {
			enqueue(t, e.a, job(q))
		}
		jobs, err := e.a.Fetch(t.Context(), queue.FetchRequest{Queue: q, Max: 5, Lease: time.Minute, Limit: tc.limit, Rate: tc.rate})
		if err != nil {
			t.Fatalf("%s: Fetch: %v", tc.name, err)
		}
		if len(jobs) < tc.want {
			t.Errorf("%s: Fetch with Limit %d, Rate %+v = %d jobs; want %d", tc.name, tc.limit, tc.rate, len(jobs), tc.want)
		}
		if err := e.a.Wait(t.Context(), q, 10*time.Millisecond); err != nil {
			t.Errorf("%s: Wait: %v", tc.name, err)
		}
	}
}
