package redisqueue_test

import (
	"math"
	"testing"
	"time"

	"github.com/ladder-go/ladder/queue"
	"github.com/ladder-go/ladder/queue/redisqueue"
)

// Rates and limits at the ends of their ranges: a rate so high it is no
// bound lets jobs through, a tiny period does not divide by zero, a huge
// Limit is no limit.
func TestRateExtremesFetch(t *testing.T) {
	for _, tc := range []struct {
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
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t, redisqueue.Options{Logger: quietLog})
			for range 5 {
				enqueue(t, b, job("k"))
			}
			jobs, err := b.Fetch(ctxT(t), queue.FetchRequest{Queue: "q", Max: 5, Lease: time.Minute, Limit: tc.limit, Rate: tc.rate})
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) < tc.want {
				t.Fatalf("Fetch with Limit %d, Rate %+v = %d jobs; want %d", tc.limit, tc.rate, len(jobs), tc.want)
			}
			if err := b.Wait(ctxT(t), "q", 10*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		})
	}
}
