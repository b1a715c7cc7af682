package load

import (
	"slices"
	"sync"
	"time"
)

// recorder keeps every latency of a step (bounded by Step.MaxRequests).
type recorder struct {
	mu    sync.Mutex
	all   []time.Duration
	ops   map[Op][]time.Duration
	errs  map[Op]int
	kinds map[string]int
	first error
}

func newRecorder() *recorder {
	return &recorder{ops: map[Op][]time.Duration{}, errs: map[Op]int{}, kinds: map[string]int{}}
}

func (r *recorder) add(op Op, d time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, d)
	r.ops[op] = append(r.ops[op], d)
	if err != nil {
		r.errs[op]++
		r.kinds[kind(err)]++
		if r.first == nil {
			r.first = err
		}
	}
}

func (r *recorder) firstErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first
}

func summarize(ds []time.Duration, errs int, elapsed time.Duration) Stats {
	s := Stats{Requests: len(ds), Errors: errs}
	if len(ds) == 0 {
		return s
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	s.P50 = quantile(sorted, 0.50)
	s.P99 = quantile(sorted, 0.99)
	s.Max = sorted[len(sorted)-1]
	s.ErrorRate = float64(errs) / float64(len(ds))
	if elapsed > 0 {
		s.Throughput = float64(len(ds)) / elapsed.Seconds()
	}
	return s
}

// quantile of sorted latencies, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *recorder) stats(elapsed time.Duration) Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := 0
	for _, n := range r.errs {
		errs += n
	}
	return summarize(r.all, errs, elapsed)
}

func (r *recorder) byOp(elapsed time.Duration) map[Op]Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[Op]Stats, len(r.ops))
	for op, ds := range r.ops {
		m[op] = summarize(ds, r.errs[op], elapsed)
	}
	return m
}

func (r *recorder) failures() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.kinds) == 0 {
		return nil
	}
	m := make(map[string]int, len(r.kinds))
	for k, v := range r.kinds {
		m[k] = v
	}
	return m
}

// timeline buckets requests by when they started.
type timeline struct {
	every time.Duration
	mu    sync.Mutex
	b     []bucket
}

type bucket struct {
	ds   []time.Duration
	errs int
}

func newTimeline(every time.Duration) *timeline { return &timeline{every: every} }

func (t *timeline) add(at, d time.Duration, failed bool) {
	i := int(at / t.every)
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.b) <= i {
		t.b = append(t.b, bucket{})
	}
	t.b[i].ds = append(t.b[i].ds, d)
	if failed {
		t.b[i].errs++
	}
}

func (t *timeline) samples() []Sample {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Sample, 0, len(t.b))
	for i, b := range t.b {
		s := Sample{At: time.Duration(i) * t.every, Requests: len(b.ds), Errors: b.errs}
		if len(b.ds) > 0 {
			sorted := slices.Clone(b.ds)
			slices.Sort(sorted)
			s.P99 = quantile(sorted, 0.99)
		}
		out = append(out, s)
	}
	return out
}
