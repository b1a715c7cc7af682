package queuetest

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/ladder-go/ladder/queue"
)

// Recorder is a queue.Backend for testing producers: a working in-memory
// backend (a queue.Memory) that also records every job stored through it,
// so a test can assert what its code enqueued (RequireEnqueued, Enqueued)
// and still fetch, settle or work the jobs.
type Recorder struct {
	*queue.Memory

	mu   sync.Mutex
	jobs []queue.Job
}

var _ queue.Backend = (*Recorder)(nil)

// NewRecorder returns an empty Recorder over a queue.Memory with opts.
func NewRecorder(opts queue.MemoryOptions) (*Recorder, error) {
	m, err := queue.NewMemory(opts)
	if err != nil {
		return nil, err
	}
	return &Recorder{Memory: m}, nil
}

// Enqueue implements queue.Backend, recording the jobs it stored (with
// their IDs); a duplicate of a held unique key is not stored and not
// recorded.
func (r *Recorder) Enqueue(ctx context.Context, jobs []*queue.Job) ([]queue.EnqueueResult, error) {
	res, err := r.Memory.Enqueue(ctx, jobs)
	if err != nil {
		return res, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, j := range jobs {
		if res[i].Duplicate {
			continue
		}
		c := *j
		c.ID = res[i].ID
		if c.Queue == "" {
			c.Queue = queue.DefaultQueue
		}
		c.Args = append([]byte(nil), j.Args...)
		c.Meta = maps.Clone(j.Meta)
		r.jobs = append(r.jobs, c)
	}
	return res, nil
}

// Jobs returns the jobs recorded so far, in enqueue order, as they were
// enqueued.
func (r *Recorder) Jobs() []queue.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]queue.Job(nil), r.jobs...)
}

// Reset forgets the jobs recorded so far (the backend keeps them).
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = nil
}

// Match narrows RequireEnqueued to some jobs; a zero field matches any.
type Match struct {
	Queue     string            // the job's queue ("default" for a job enqueued without one)
	UniqueKey string            // the job's unique key
	Meta      map[string]string // pairs the job's Meta must hold
	Count     int               // 0: at least one job; > 0: exactly this many
}

func (m Match) matches(j queue.Job) bool {
	if m.Queue != "" && j.Queue != m.Queue || m.UniqueKey != "" && j.UniqueKey != m.UniqueKey {
		return false
	}
	for k, v := range m.Meta {
		if got, ok := j.Meta[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// RequireEnqueued fails t unless rec recorded jobs of kind that match m
// (at least one, or exactly m.Count), and returns them in enqueue order.
func RequireEnqueued(t testing.TB, rec *Recorder, kind string, m Match) []queue.Job {
	t.Helper()
	var out []queue.Job
	all := rec.Jobs()
	for _, j := range all {
		if j.Kind == kind && m.matches(j) {
			out = append(out, j)
		}
	}
	switch {
	case m.Count == 0 && len(out) == 0:
		t.Fatalf("queuetest: no job of kind %q matching %+v was enqueued (%s)", kind, m, summary(all))
	case m.Count > 0 && len(out) != m.Count:
		t.Fatalf("queuetest: %d jobs of kind %q matching %+v were enqueued, want %d (%s)", len(out), kind, m, m.Count, summary(all))
	}
	return out
}

// RequireNotEnqueued fails t if rec recorded a job of kind.
func RequireNotEnqueued(t testing.TB, rec *Recorder, kind string) {
	t.Helper()
	for _, j := range rec.Jobs() {
		if j.Kind == kind {
			t.Fatalf("queuetest: a job of kind %q was enqueued (ID %s, queue %q, args %s)", kind, j.ID, j.Queue, j.Args)
		}
	}
}

// Enqueued returns the decoded arguments of every job of A's kind that rec
// recorded, in enqueue order. It fails t on arguments that do not decode
// into A (as JSON, the Client's encoding).
func Enqueued[A queue.Kinded](t testing.TB, rec *Recorder) []A {
	t.Helper()
	var zero A
	kind := zero.Kind()
	var out []A
	for _, j := range rec.Jobs() {
		if j.Kind != kind {
			continue
		}
		var a A
		if err := json.Unmarshal(j.Args, &a); err != nil {
			t.Fatalf("queuetest: job %s of kind %q: args %s do not decode into %T: %v", j.ID, kind, j.Args, a, err)
		}
		out = append(out, a)
	}
	return out
}

// summary names the kinds recorded, for a failure message.
func summary(jobs []queue.Job) string {
	if len(jobs) == 0 {
		return "nothing was enqueued"
	}
	n := map[string]int{}
	var order []string
	for _, j := range jobs {
		if n[j.Kind] == 0 {
			order = append(order, j.Kind)
		}
		n[j.Kind]++
	}
	s := "enqueued:"
	for _, k := range order {
		s += fmt.Sprintf(" %d × %q", n[k], k)
	}
	return s
}
