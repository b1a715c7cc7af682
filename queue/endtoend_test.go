package queue

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ladder-go/ladder/internal/testenv"
)

// Two workers on one Memory, jobs failing once in a while, one worker shut
// down mid-way: every job ends done exactly once, none dead, none left.
func TestEndToEndLosesNothingAcrossAShutdown(t *testing.T) {
	testenv.Bubble(t, func(t *testing.T) {
		const n = 3000
		m, _ := NewMemory(MemoryOptions{})
		h := &Handlers{}
		var mu sync.Mutex
		done := map[int]int{}
		tries := map[int]int{}
		mustHandle(t, h, func(ctx context.Context, j *Typed[argsA]) error {
			mu.Lock()
			tries[j.Args.N]++
			k := tries[j.Args.N]
			mu.Unlock()
			time.Sleep(time.Duration(j.Args.N%5) * time.Millisecond)
			switch {
			case j.Args.N%7 == 0 && k == 1:
				return errors.New("transient")
			case j.Args.N%11 == 0 && k == 1:
				return SnoozeFor(time.Second)
			}
			mu.Lock()
			done[j.Args.N]++
			mu.Unlock()
			return nil
		}, HandlerOptions{Backoff: func(int) time.Duration { return time.Second }})
		c := mustClient(t, m)
		reqs := make([]Request, 0, 100)
		for i := range n {
			reqs = append(reqs, Request{Args: argsA{N: i}})
			if len(reqs) == cap(reqs) {
				if _, err := c.EnqueueMany(context.Background(), reqs); err != nil {
					t.Fatal(err)
				}
				reqs = reqs[:0]
			}
		}
		a := start(t, m, h, WorkerOptions{ID: "a", Queues: map[string]QueueOptions{"default": {Concurrency: 20}}})
		start(t, m, h, WorkerOptions{ID: "b", Queues: map[string]QueueOptions{"default": {Concurrency: 20}}})
		time.Sleep(50 * time.Millisecond)
		a.stop(t)
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(done) != n {
			t.Fatalf("%d of %d jobs done", len(done), n)
		}
		for i, k := range done {
			if k != 1 {
				t.Errorf("job %d done %d times", i, k)
			}
		}
		s, _ := c.Stats(context.Background(), "")
		if s.Ready+s.Scheduled+s.Running+s.Dead != 0 {
			t.Fatalf("left: %+v", s)
		}
	})
}
