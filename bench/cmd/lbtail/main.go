// Command lbtail measures tail latency per balancing policy when one of four
// backends turns 10× slower: the case where latency-aware balancing earns
// its keep. It is a discrete-event simulation driving a real lb.Pool on a
// virtual clock (PoolOptions.Now) with a seeded random source, so results
// are exact and repeatable, free of the scheduler noise of a shared machine.
//
// Model: closed-loop clients each send a request as soon as the previous
// one completes. A backend serves up to -slots requests at once and queues
// the rest (FIFO); a request's latency is its queueing plus its service
// time, drawn from an exponential distribution around the backend's mean.
// Each policy runs twice — all backends healthy, then backend 3 ten times
// slower — and the table gives p50, p99 and the slow p99 ÷ the healthy p99.
//
//	cd bench && go run ./cmd/lbtail
package main

import (
	"container/heap"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/ladder-go/ladder/lb"
)

var (
	requests = flag.Int("n", 200000, "requests per run")
	clients  = flag.Int("clients", 48, "closed-loop clients")
	slots    = flag.Int("slots", 16, "requests a backend serves at once; more wait in its queue")
	mean     = flag.Duration("mean", 2*time.Millisecond, "mean service time of a healthy backend")
	seed     = flag.Uint64("seed", 1, "random seed")
)

func main() {
	flag.Parse()
	policies := []struct {
		name string
		p    lb.Policy
	}{
		{"round robin", lb.RoundRobin()},
		{"random", lb.Random()},
		{"least-request P2C", lb.LeastRequest()},
		{"P2C peak EWMA", lb.PeakEWMA(lb.PeakEWMAOptions{})},
	}
	fmt.Printf("Simulated: 4 backends, mean service %v (exponential), %d slots each, %d closed-loop clients, %d requests per run;\n",
		*mean, *slots, *clients, *requests)
	fmt.Printf("slow case: backend 3's mean is 10× (%v). Virtual clock, seed %d: `cd bench && go run ./cmd/lbtail`.\n\n", 10**mean, *seed)
	fmt.Println("| policy | healthy p50 | healthy p99 | slow p50 | slow p99 | slow p99 ÷ healthy p99 | share sent to the slow backend |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, pol := range policies {
		h, _, err := simulate(pol.p, false)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lbtail:", err)
			os.Exit(1)
		}
		s, share, err := simulate(pol.p, true)
		if err != nil {
			fmt.Fprintln(os.Stderr, "lbtail:", err)
			os.Exit(1)
		}
		fmt.Printf("| %s | %v | %v | %v | %v | %.2f× | %.1f%% |\n", pol.name,
			pct(h, 50), pct(h, 99), pct(s, 50), pct(s, 99),
			float64(pct(s, 99))/float64(pct(h, 99)), 100*share)
	}
}

type event struct {
	at      int64 // virtual ns
	backend int
	start   int64 // when the request was sent
	done    func(lb.Outcome)
}

type events []event

func (e events) Len() int           { return len(e) }
func (e events) Less(i, j int) bool { return e[i].at < e[j].at }
func (e events) Swap(i, j int)      { e[i], e[j] = e[j], e[i] }
func (e *events) Push(x any)        { *e = append(*e, x.(event)) }
func (e *events) Pop() any {
	old := *e
	x := old[len(old)-1]
	*e = old[:len(old)-1]
	return x
}

type backend struct {
	mean  float64 // ns
	busy  int
	queue []event // waiting requests: start and done set, at unset
}

// simulate runs one closed-loop experiment and returns the sorted latencies
// and the share of requests that went to backend 3.
func simulate(policy lb.Policy, slow bool) ([]time.Duration, float64, error) {
	var now int64
	rng := rand.New(rand.NewPCG(*seed, 42))
	bs := make([]*backend, 4)
	members := make([]lb.Backend[int], 4)
	for i := range bs {
		bs[i] = &backend{mean: float64(*mean)}
		members[i] = lb.Backend[int]{Name: fmt.Sprint("b", i), Value: i}
	}
	if slow {
		bs[3].mean *= 10
	}
	pool, err := lb.NewPool(members, lb.PoolOptions{
		Policy:  policy,
		Outlier: lb.OutlierOptions{Consecutive: -1}, // measure the policy, not passive health
		Now:     func() time.Time { return time.Unix(0, now) },
		Rand:    rng.Uint64,
	})
	if err != nil {
		return nil, 0, err
	}
	defer pool.Close()

	var q events
	lat := make([]time.Duration, 0, *requests)
	sent, toSlow := 0, 0
	startService := func(b int, ev event) {
		bs[b].busy++
		ev.at = now + int64(rng.ExpFloat64()*bs[b].mean)
		heap.Push(&q, ev)
	}
	send := func() error {
		b, done, err := pool.Pick()
		if err != nil {
			return err
		}
		sent++
		if b == 3 {
			toSlow++
		}
		ev := event{backend: b, start: now, done: done}
		if bs[b].busy < *slots {
			startService(b, ev)
		} else {
			bs[b].queue = append(bs[b].queue, ev)
		}
		return nil
	}
	for range *clients {
		if err := send(); err != nil {
			return nil, 0, err
		}
	}
	for q.Len() > 0 {
		ev := heap.Pop(&q).(event)
		now = ev.at
		l := time.Duration(now - ev.start)
		ev.done(lb.Outcome{Latency: l})
		lat = append(lat, l)
		b := bs[ev.backend]
		b.busy--
		if len(b.queue) > 0 {
			next := b.queue[0]
			b.queue = b.queue[1:]
			startService(ev.backend, next)
		}
		if sent < *requests {
			if err := send(); err != nil {
				return nil, 0, err
			}
		}
	}
	slices.Sort(lat)
	return lat, float64(toSlow) / math.Max(1, float64(sent)), nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i].Round(10 * time.Microsecond)
}
