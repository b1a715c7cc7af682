package lb

import (
	"math"
)

// maxSchedule bounds the precomputed weighted round robin schedule.
const maxSchedule = 4096

// WeightedRoundRobin is nginx's smooth weighted round robin: weights 5, 1, 1
// give a a b a c a a, spreading the heavy backend's turns instead of
// sending it bursts. The schedule is computed once per snapshot, so a pick is
// one atomic increment; under parallel picks the schedule's position is kept
// per core-local slot, as for [RoundRobin].
func WeightedRoundRobin() Policy { return wrrPolicy{} }

type wrrPolicy struct{}

type wrrPicker struct {
	seq  []int32
	mod  modulus
	next turns
}

func (wrrPolicy) NewPicker(cfg PickerConfig) Picker {
	p := &wrrPicker{seq: smoothSchedule(intWeights(cfg.Weights))}
	p.mod = newModulus(len(p.seq))
	p.next.start(uint32(cfg.Rand()%uint64(len(p.seq))) - 1) // Pick adds before reading
	return p
}

func (p *wrrPicker) Pick(uint64, bool) int {
	return int(p.seq[p.mod.of(p.next.next())])
}

// intWeights turns weights into small integers with the same ratios, scaled
// so that their sum fits the schedule.
func intWeights(ws []float64) []int {
	out := make([]int, len(ws))
	exact := true
	sum := 0.0
	for _, w := range ws {
		sum += w
		exact = exact && w == math.Trunc(w)
	}
	scale := 1.0
	if !exact {
		scale = 100 // slow start: two decimals are plenty
	}
	if sum*scale > maxSchedule {
		scale = maxSchedule / sum
	}
	g := 0
	for i, w := range ws {
		out[i] = max(1, int(math.Round(w*scale)))
		g = gcd(g, out[i])
	}
	for i := range out {
		out[i] /= g
	}
	return out
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// smoothSchedule runs nginx's algorithm for one full cycle: every step each
// current weight grows by its weight, the largest is chosen and loses the total.
func smoothSchedule(w []int) []int32 {
	total := 0
	for _, x := range w {
		total += x
	}
	cur := make([]int, len(w))
	seq := make([]int32, total)
	for s := range seq {
		best := 0
		for i := range w {
			cur[i] += w[i]
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		seq[s] = int32(best)
	}
	return seq
}
