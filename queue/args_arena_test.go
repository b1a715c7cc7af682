package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// EnqueueMany stores each job's args exactly as json.Marshal encodes them,
// small and large mixed in one batch, and one job's Args cannot be grown
// into its neighbour's.
func TestEnqueueManyArgsAsMarshal(t *testing.T) {
	m, err := NewMemory(MemoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := mustClient(t, m)
	var reqs []Request
	for i := range 300 {
		s := strings.Repeat("x<&>", i%7)
		if i%50 == 7 {
			s = strings.Repeat("y", 1500+i) // larger than a quarter chunk
		}
		if i%97 == 3 {
			s = strings.Repeat("z", 5000) // larger than a chunk
		}
		reqs = append(reqs, Request{Args: argsB{S: s}})
	}
	reqs = append(reqs, Request{Args: argsA{N: 1}})
	ctx := context.Background()
	if _, err := c.EnqueueMany(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for {
		js, err := m.Fetch(ctx, FetchRequest{Queue: DefaultQueue, Max: 100, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if len(js) == 0 {
			break
		}
		for _, j := range js {
			if len(j.Args) != cap(j.Args) {
				t.Fatalf("job %s: Args has spare capacity %d: an append would write into shared bytes", j.ID, cap(j.Args)-len(j.Args))
			}
			got[string(j.Args)]++
		}
	}
	for i, r := range reqs {
		want, _ := json.Marshal(r.Args)
		if got[string(want)] == 0 {
			t.Fatalf("request %d: args %s not stored as json.Marshal encodes them", i, want)
		}
		got[string(want)]--
	}
}

type panicArgs struct{ fail bool }

func (panicArgs) Kind() string { return "p" }

func (a panicArgs) MarshalJSON() ([]byte, error) {
	if a.fail {
		panic("boom")
	}
	return []byte(`{"ok":true}`), nil
}

// An encoding that panics midway leaves nothing of itself in the arena.
func TestArgsArenaAbort(t *testing.T) {
	ar := newArgsArena()
	a, err := encode(argsA{N: 1}, ar)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := encode(panicArgs{fail: true}, ar); err == nil {
		t.Fatal("no error from a panicking MarshalJSON")
	}
	b, err := encode(panicArgs{}, ar)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, []byte(`{"N":1}`)) || !bytes.Equal(b, []byte(`{"ok":true}`)) {
		t.Fatalf("got %s and %s", a, b)
	}
}
