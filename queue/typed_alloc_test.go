package queue

import (
	"context"
	"strconv"
	"testing"
)

type bigArgs struct{ N int }

func (bigArgs) Kind() string { return "big" }

// Values from a goroutine's chunk are handed out once: a handler that keeps
// its *Typed sees it unchanged by later jobs, and each job gets its own.
func TestTypedKeptAcrossJobs(t *testing.T) {
	h := &Handlers{}
	var kept []*Typed[bigArgs]
	if err := Handle(h, func(_ context.Context, j *Typed[bigArgs]) error {
		kept = append(kept, j)
		return nil
	}, HandlerOptions{}); err != nil {
		t.Fatal(err)
	}
	hd := h.get("big")
	var ta typedAlloc
	jobs := make([]Job, 3*typedChunkMax+5)
	for i := range jobs {
		jobs[i] = Job{Kind: "big", Args: []byte(`{"N":` + strconv.Itoa(i) + `}`)}
		if err := hd.call(context.Background(), &jobs[i], &ta); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range kept {
		if k.Job != &jobs[i] || k.Args.N != i {
			t.Fatalf("job %d: kept Typed changed: job %p (want %p), N %d", i, k.Job, &jobs[i], k.Args.N)
		}
		for _, o := range kept[:i] {
			if o == k {
				t.Fatalf("job %d: Typed handed out twice", i)
			}
		}
	}
}
