package edgetest

import (
	"context"
	"sync"
)

// Result is the outcome of one case: Err is nil when the cache passed.
type Result struct {
	Case Case
	Err  error
}

// CheckAll runs cases against one target (an out-of-process cache, or any
// target whose Origin and cache serve every case), at most parallel at a
// time (≤ 0 → all at once: cases never share URLs), and returns the results
// in the order of cases. On the real clock the whole suite takes as long as
// its slowest case (about 10 s).
func CheckAll(ctx context.Context, cases []Case, tg Target, parallel int) []Result {
	if parallel <= 0 {
		parallel = len(cases)
	}
	out := make([]Result, len(cases))
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = Result{Case: c, Err: Check(ctx, c, tg)}
		}()
	}
	wg.Wait()
	return out
}

// Tally counts passed and total results per RFC and Level ("9111 MUST"), the
// scoreboard's cells.
func Tally(results []Result) map[string][2]int {
	t := map[string][2]int{}
	for _, r := range results {
		k := r.Case.RFC + " " + r.Case.Level
		v := t[k]
		v[1]++
		if r.Err == nil {
			v[0]++
		}
		t[k] = v
	}
	return t
}
