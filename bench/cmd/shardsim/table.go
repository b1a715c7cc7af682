package main

import (
	"fmt"
	"time"
)

// table prints one markdown table: every strategy on stream st at n shards.
func table(st stream, n int) error {
	fmt.Printf("### %s, %d shards\n\n", st.name, n)
	fmt.Printf("| strategy | lookup ns | max/mean requests | max/mean keys | moved on add %d→%d | × ideal %.4f | moved on remove %d→%d | × ideal %.4f |\n",
		n, n+1, 1/float64(n+1), n, n-1, 1/float64(n))
	fmt.Println("|---|---|---|---|---|---|---|---|")
	// Distinct keys, in order of first appearance.
	seen := make(map[string]struct{}, len(st.keys))
	var distinct [][]byte
	for _, k := range st.keys {
		if _, ok := seen[string(k)]; !ok {
			seen[string(k)] = struct{}{}
			distinct = append(distinct, k)
		}
	}
	for _, s := range strategies {
		row, err := measure(s, st.keys, distinct, n)
		if err != nil {
			fmt.Printf("| %s | error: %v | | | | | | |\n", s.name, err)
			continue
		}
		fmt.Println(row)
	}
	fmt.Println()
	return nil
}

func measure(s strategy, requests, distinct [][]byte, n int) (string, error) {
	r0, err := s.build(n, base)
	if err != nil {
		return "", err
	}
	// Lookup cost over the whole request stream, hash included.
	// Lookup cost: the best of three passes over the stream, after a warm-up
	// pass (the machine may be shared; the best pass is the least disturbed).
	perShard := map[string]int{}
	var sink int
	ns := 0.0
	for pass := range 4 {
		start := time.Now()
		for _, k := range requests {
			sink += len(r0(k))
		}
		if d := float64(time.Since(start).Nanoseconds()) / float64(len(requests)); pass == 1 || pass > 1 && d < ns {
			ns = d
		}
	}
	_ = sink
	for _, k := range requests {
		perShard[r0(k)]++
	}
	byReq := maxMean(perShard, n)
	clear(perShard)
	for _, k := range distinct {
		perShard[r0(k)]++
	}
	byKey := maxMean(perShard, n)

	moved := func(c change) (float64, error) {
		r1, err := s.build(n, c)
		if err != nil {
			return 0, err
		}
		m := 0
		for _, k := range distinct {
			if r0(k) != r1(k) {
				m++
			}
		}
		return float64(m) / float64(len(distinct)), nil
	}
	up, err := moved(add)
	if err != nil {
		return "", err
	}
	down, err := moved(remove)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("| %s | %.1f | %.3f | %.3f | %.4f | %.2f | %.4f | %.2f |",
		s.name, ns, byReq, byKey, up, up*float64(n+1), down, down*float64(n)), nil
}

// maxMean is the busiest shard's count over the mean over n shards.
func maxMean(c map[string]int, n int) float64 {
	sum, mx := 0, 0
	for _, x := range c {
		sum += x
		mx = max(mx, x)
	}
	if sum == 0 {
		return 0
	}
	return float64(mx) / (float64(sum) / float64(n))
}

// catch runs f, turning a panic into an error (buraksezer/consistent
// panics on configurations it cannot place).
func catch(f func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	f()
	return nil
}
