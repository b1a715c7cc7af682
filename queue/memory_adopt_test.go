package queue

import (
	"context"
	"testing"
	"time"
)

// A Client batch into a Memory is stored in the entries it was built in
// when ready at once; delayed and unique jobs of the same batch are stored
// on their own, and every job keeps its own ID, args and state.
func TestEnqueueManyMemoryMixedBatch(t *testing.T) {
	m, err := NewMemory(MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := mustClient(t, m)
	ctx := context.Background()
	var reqs []Request
	for i := range 70 {
		var o EnqueueOptions
		switch i % 5 {
		case 1:
			o.Delay = time.Hour
		case 2:
			o.UniqueKey = "u" + string(rune('a'+i%3)) // a, b, c: the rest duplicates
		}
		reqs = append(reqs, Request{Args: argsA{N: i}, Options: o})
	}
	res, err := c.EnqueueMany(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	ids, dups := map[string]bool{}, 0
	for _, r := range res {
		if r.Duplicate {
			dups++
			continue
		}
		if ids[r.ID] {
			t.Fatalf("ID %s given twice", r.ID)
		}
		ids[r.ID] = true
	}
	if want := 14 - 3; dups != want {
		t.Fatalf("%d duplicates, want %d", dups, want)
	}
	st, err := m.Stats(ctx, DefaultQueue)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ready != 42+3 || st.Scheduled != 14 {
		t.Fatalf("stats %+v, want 45 ready, 14 scheduled", st)
	}
	js, err := m.Fetch(ctx, FetchRequest{Queue: DefaultQueue, Max: 100, Lease: time.Minute})
	if err != nil || len(js) != 45 {
		t.Fatalf("fetched %d jobs, %v; want 31", len(js), err)
	}
	for _, j := range js {
		if !ids[j.ID] || j.Attempt != 1 || j.Lease == "" || j.Kind != "a" {
			t.Fatalf("fetched job %+v", j)
		}
		oc := Outcome{Job: j, Kind: Done}
		if errs, err := m.Settle(ctx, []Outcome{oc}); err != nil || errs[0] != nil {
			t.Fatalf("settle %s: %v %v", j.ID, err, errs)
		}
	}
}
