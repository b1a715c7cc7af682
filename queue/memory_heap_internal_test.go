package queue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// refLess is the order every list keeps: at, then seq.
func refLess(a, b *entry) int {
	switch {
	case a.at < b.at || a.at == b.at && a.seq < b.seq:
		return -1
	case a == b:
		return 0
	}
	return 1
}

// A readyList pops in (at, seq) order whatever the mix of in-order pushes
// (FIFO), out-of-order ones (heap) and cancellations (holes), checked
// against a sorted slice over random operations.
func TestReadyListOrder(t *testing.T) {
	for seed := range uint64(50) {
		rnd := rand.New(rand.NewPCG(seed, 1))
		var r readyList
		var ref []*entry
		var seq uint64
		at := int64(1000)
		for range 20000 {
			switch op := rnd.IntN(10); {
			case op < 5: // push, mostly in order
				seq++
				if rnd.IntN(4) == 0 {
					at += int64(rnd.IntN(3))
				}
				e := &entry{at: at, seq: seq, state: stateReady}
				if rnd.IntN(5) == 0 {
					e.at -= int64(rnd.IntN(50)) // a retry or a due job with an older RunAt
				}
				r.push(e)
				ref = append(ref, e)
			case op < 8: // pop
				slices.SortFunc(ref, refLess)
				got := r.pop()
				if len(ref) == 0 {
					if got != nil {
						t.Fatalf("seed %d: pop of an empty list returned %+v", seed, got)
					}
					continue
				}
				if got != ref[0] {
					t.Fatalf("seed %d: pop = (%d,%d), want (%d,%d)", seed, got.at, got.seq, ref[0].at, ref[0].seq)
				}
				got.state = 0
				ref = ref[1:]
			default: // cancel a random member
				if len(ref) == 0 {
					continue
				}
				i := rnd.IntN(len(ref))
				r.remove(ref[i])
				ref[i].state = 0
				ref = slices.Delete(ref, i, i+1)
			}
		}
		if live := len(r.fifo) - r.head - r.holes; len(r.fifo) > 2*live+2048 {
			t.Fatalf("seed %d: the FIFO holds %d slots (head %d) for %d live ones", seed, len(r.fifo), r.head, live)
		}
		for len(ref) > 0 {
			slices.SortFunc(ref, refLess)
			if got := r.pop(); got != ref[0] {
				t.Fatalf("seed %d: draining popped the wrong entry", seed)
			}
			ref[0].state = 0
			ref = ref[1:]
		}
		if r.pop() != nil {
			t.Fatalf("seed %d: the drained list still pops", seed)
		}
	}
}

// A leaseList reports the earliest deadline whatever the mix of pushes,
// extends (in and out of order) and removals, and its count stays right.
func TestLeaseListEarliest(t *testing.T) {
	for seed := range uint64(50) {
		rnd := rand.New(rand.NewPCG(seed, 2))
		var l leaseList
		var ref []*entry
		var seq uint64
		now := int64(0)
		for range 20000 {
			now += int64(rnd.IntN(3))
			switch op := rnd.IntN(10); {
			case op < 4:
				seq++
				e := &entry{at: now + 100 + int64(rnd.IntN(2)*rnd.IntN(100)), seq: seq, state: stateRunning}
				l.push(e)
				ref = append(ref, e)
			case op < 6 && len(ref) > 0: // extend (a heartbeat: mostly the same new deadline)
				e := ref[rnd.IntN(len(ref))]
				l.extend(e, now+100+int64(rnd.IntN(3)*rnd.IntN(30)))
			case op < 9 && len(ref) > 0: // settle
				i := rnd.IntN(len(ref))
				l.remove(ref[i])
				ref[i].state = 0
				ref = slices.Delete(ref, i, i+1)
			default: // expire the earliest
				if f := l.first(); f != nil {
					l.remove(f)
					f.state = 0
					ref = slices.DeleteFunc(ref, func(e *entry) bool { return e == f })
				}
			}
			if live := len(l.fifo) - l.head - l.holes; len(l.fifo) > 2*live+2048 {
				t.Fatalf("seed %d: the FIFO holds %d slots (head %d) for %d live ones", seed, len(l.fifo), l.head, live)
			}
			if l.n != len(ref) {
				t.Fatalf("seed %d: n = %d, want %d", seed, l.n, len(ref))
			}
			f := l.first()
			if len(ref) == 0 {
				if f != nil {
					t.Fatalf("seed %d: first of an empty list = %+v", seed, f)
				}
				continue
			}
			min := slices.MinFunc(ref, func(a, b *entry) int { return int(a.at - b.at) })
			if f == nil || f.at != min.at {
				t.Fatalf("seed %d: first deadline %v, want %d", seed, f, min.at)
			}
		}
	}
}
