package queue

import (
	"context"
	"math"
	"testing"
	"time"
)

// Rates and limits at the ends of their ranges: a rate so high it is no
// bound must let jobs through, a tiny period must not divide by zero or
// spin, a huge Limit is no limit.
func TestRateExtremesFetch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
		rate  Rate
		want  int
	}{
		{"N=MaxInt", 0, Rate{N: math.MaxInt, Per: time.Second}, 5},
		{"Burst=MaxInt", 0, Rate{N: 1, Per: time.Second, Burst: math.MaxInt}, 5},
		{"N=MaxInt,Per=1ns", 0, Rate{N: math.MaxInt, Per: 1}, 5},
		{"N=1,Per=1ns", 0, Rate{N: 1, Per: 1}, 1},
		{"N=1,Per=MaxInt64", 0, Rate{N: 1, Per: math.MaxInt64}, 1},
		{"Limit=MaxInt", math.MaxInt, Rate{}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := NewMemory(MemoryOptions{})
			c := mustClient(t, m)
			for range 5 {
				enqueue(t, c, argsA{}, EnqueueOptions{})
			}
			req := FetchRequest{Queue: DefaultQueue, Max: 5, Lease: time.Minute, Limit: tc.limit, Rate: tc.rate}
			jobs, err := m.Fetch(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) < tc.want {
				t.Fatalf("Fetch with Limit %d, Rate %+v = %d jobs; want %d", tc.limit, tc.rate, len(jobs), tc.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := m.Wait(ctx, DefaultQueue, 10*time.Millisecond); err != nil {
				t.Fatal(err)
			}
		})
	}
}
