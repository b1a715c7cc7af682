package replica

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// Above recordRate, the statements sampled into db.client.operation.duration
// are a fair sample of all of them: slow statements are kept as often as
// fast ones. A sample decided when a statement ends, by its start time,
// keeps almost only the fast ones once the limiter is full (a slow
// statement's start lies too far behind), and the histogram's p99 then
// shows the fast statements' latency.
func TestDBSampleUnbiasedByDuration(t *testing.T) {
	d := &dbMetrics{on: true, base: time.Now()}
	// 40k statements a second for 2 s, half of them (at random) taking
	// 200 ms, the rest 10 µs; the router calls start when a statement starts and done
	// when it ends, so done calls come in order of end time.
	const gap = int64(25 * time.Microsecond)
	type stmt struct {
		start, end int64
		slow       bool
		tok        int64
	}
	var all []*stmt
	rng := rand.New(rand.NewPCG(1, 2))
	slowN := map[bool]int{}
	for i := range int64(80_000) {
		s := &stmt{start: i * gap, slow: rng.IntN(2) == 1}
		slowN[s.slow]++
		s.end = s.start + int64(10*time.Microsecond)
		if s.slow {
			s.end = s.start + int64(200*time.Millisecond)
		}
		all = append(all, s)
	}
	type event struct {
		at    int64
		start bool
		s     *stmt
	}
	var evs []event
	for _, s := range all {
		evs = append(evs, event{s.start, true, s}, event{s.end, false, s})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	kept := map[bool]int{}
	for _, ev := range evs {
		if ev.start {
			ev.s.tok = d.decide(ev.at)
			continue
		}
		if d.keep(ev.s.tok) {
			kept[ev.s.slow]++
		}
	}
	// Compare the shares kept of each kind.
	fast := float64(kept[false]) / float64(slowN[false])
	slow := float64(kept[true]) / float64(slowN[true])
	if fast == 0 || slow < fast*0.9 {
		t.Errorf("kept %d of %d fast statements and %d of %d slow ones: slow ones under-sampled",
			kept[false], slowN[false], kept[true], slowN[true])
	}
}
